/* Every BTF kind clang emits, for the BTF layer's tests. Compiled at test time with clang -target bpf/bpfeb. */

typedef unsigned int u32;
typedef unsigned long long u64;
typedef u32 u32_alias;              /* a typedef chain */
typedef const volatile u32_alias cv_u32;

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __tag(x) __attribute__((btf_type_tag(x)))
#define __decl(x) __attribute__((btf_decl_tag(x)))
#define __ksym __attribute__((section(".ksyms")))

struct flags {                       /* bitfields: kind_flag = 1 */
	unsigned int a: 1;
	unsigned int b: 3;
	int c: 5;
	unsigned long long wide: 40;
	char after;
	unsigned int: 0;
	short s: 7;
};

enum color { RED, GREEN = 5, BLUE };          /* unsigned enum */
enum delta { DOWN = -1, FLAT = 0, UP = 1 };   /* signed enum */
enum big : long long { HUGE = 0x100000000LL, NEG = -2 };  /* ENUM64, signed */
enum ubig : unsigned long long { UHUGE = 0xffffffffffffffffULL };  /* ENUM64, unsigned */
enum small : unsigned char { TINY = 1 };     /* 1-byte enum */

union number {
	int i;
	float f;
	double d;
	long double ld;
};

typedef int (*binop)(int, int);
typedef void (*variadic)(const char *fmt, ...);

struct node {
	struct node *next;                        /* self reference */
	const char *name;
	char *const fixed;
	volatile int counter;
	int *restrict out;
	int matrix[3][4];                         /* multidimensional array */
	int (*row)[4];                            /* pointer to array */
	binop ops[2];                             /* array of function pointers */
	void (*handlers[3])(int);                 /* array of function pointers, no typedef */
	int (*(*factory)(void))(long);            /* function returning a function pointer */
	struct {                                  /* anonymous struct member */
		int x;
		int y;
	} point;
	union {                                   /* anonymous union, inlined */
		u64 raw;
		struct flags bits;
	};
	enum color color;
	enum { ANON_A, ANON_B } anon_enum;
	cv_u32 cv;
	u32_alias alias;
	union number num;
	variadic log;
	int __tag("user") *user_ptr;              /* btf_type_tag */
	struct opaque *opaque;                    /* forward declaration */
	union later *later;                       /* forward-declared union */
	char tail[];                              /* flexible array */
};

struct tagged {
	int value __decl("field_tag");
} __decl("struct_tag");

struct packed_thing {
	char c;
	int i;
} __attribute__((packed));

struct aligned_gap {
	char c;
	long long big __attribute__((aligned(16)));
};

struct {
	__uint(type, 1);
	__uint(max_entries, 16);
	__type(key, u32);
	__type(value, struct node);
} node_map SEC(".maps");

int counter = 0;                                      /* .bss */
int initialized = 42;                                 /* .data */
const volatile u64 config = 7;                        /* .rodata */
struct tagged tagged_global __decl("var_tag");
struct empty {} empty_value;                          /* a struct with no members */
unsigned __int128 wide_value;
_Bool flag_value;
enum big big_value = HUGE;
enum ubig ubig_value = UHUGE;
enum small small_value = TINY;
enum delta delta_value = DOWN;
union number number_value;
struct packed_thing packed_value;
struct aligned_gap gap_value;
double ratio = 1.5;

extern int bpf_some_kfunc(int x, struct node *n) __ksym;    /* extern FUNC */
extern const int some_kernel_var __ksym;                   /* extern VAR */

static __attribute__((noinline)) int helper(struct node *n, int k __decl("param_tag"))
{
	return n->counter + k + (int)tagged_global.value;
}

__decl("func_tag") SEC("xdp") int entry(struct node *ctx)
{
	counter++;
	return helper(ctx, initialized) + (int)config + bpf_some_kfunc(1, ctx) + some_kernel_var
		+ (int)big_value + (int)ubig_value + small_value + delta_value + number_value.i + packed_value.i
		+ (int)gap_value.big + *(int *)&ratio;
}

char _license[] SEC("license") = "GPL";
