/**
 * Reads the program header table into `ElfSegment`s: the loader's view of an executable or shared
 * object, which symbolisation and uprobes need to turn file offsets into virtual addresses and back
 * (`load-segments.ts`). A count of PN_XNUM means the real count is in section 0's sh_info. Segment data
 * ranges are not checked against the file: nothing here takes a view of them, and separate debug files
 * keep the program headers of the file they were split from while dropping its contents.
 */

import { ByteReader } from "./byte-reader.js";
import type { ElfSection, ElfSegment } from "./elf-types.js";
import { EHDR, PHDR_SIZE, PN_XNUM } from "./layout.js";
import type { ElfHeader } from "./parse-header.js";

/** Every program header of the file described by `header`; none when e_phnum is 0. */
export function parseSegments(
  bytes: Uint8Array,
  header: ElfHeader,
  sections: readonly ElfSection[],
  file: string | undefined,
): ElfSegment[] {
  if (header.phnum === 0) return [];
  const reader = new ByteReader(bytes, header.littleEndian, { file });
  const phoff = reader.seek(EHDR.phoff).u64("e_phoff");
  if (phoff === 0) reader.fail(`e_phnum is ${header.phnum} but there is no program header table`, EHDR.phnum);
  if (header.phentsize !== PHDR_SIZE) {
    reader.fail(`program header size ${header.phentsize} is not ${PHDR_SIZE}`, EHDR.phentsize);
  }
  let count = header.phnum;
  if (count === PN_XNUM) {
    const first = sections[0];
    if (first === undefined) reader.fail("e_phnum is PN_XNUM but there is no section 0 to hold the count", EHDR.phnum);
    count = first.info;
  }
  reader.expect(phoff, count * PHDR_SIZE, `program header table of ${count} entries`);

  const segments: ElfSegment[] = [];
  for (let index = 0; index < count; index++) {
    reader.seek(phoff + index * PHDR_SIZE);
    segments.push({
      index,
      type: reader.u32(),
      flags: reader.u32(),
      offset: reader.u64("p_offset"),
      vaddr: reader.u64("p_vaddr"),
      paddr: reader.u64("p_paddr"),
      filesz: reader.u64("p_filesz"),
      memsz: reader.u64("p_memsz"),
      align: reader.u64("p_align"),
    });
  }
  return segments;
}
