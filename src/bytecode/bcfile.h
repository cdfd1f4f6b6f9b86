/*
** bcfile.h: the .pipec file (a compiled pack on disk) and the verifier.
**
** bc_write stores a Chunk, bc_read loads one, and bc_verify checks that
** every instruction and every table index of a Chunk is in range, so that
** the VM may run it without checking operands. A chunk read from a file is
** always verified before bc_read returns it; the compiler's own output is
** verified in debug builds.
**
** The layout (all integers little-endian, fixed width; "str" is a u32 index
** into STRS, 0xFFFFFFFF for none):
**
**   [0]  "\x1bPPC"        magic; the first byte is not text
**   [4]  u8 major          BC_FORMAT_MAJOR: bumped when incompatible
**   [5]  u8 minor          BC_FORMAT_MINOR: bumped for new optional sections
**   [6]  u16 flags         bit 0: debug info stripped (no LINE section)
**   [8]  "\x19\x93\r\n\x1a\n"   catches newline and text-mode damage
**   [14] u16 nsections
**   [16] u32 CRC-32 (IEEE) of every byte from [20] to the end of the file
**   [20] u32 compiler version, major << 16 | minor << 8 | patch
**   [24] u64 hash of the source
**   [32] nsections * {u32 id, u32 offset, u32 length}; the sections follow
**
** Section ids are four ASCII letters, stored as they read ("STRS" is the
** bytes 'S' 'T' 'R' 'S'). The reader skips sections it does not know and
** refuses a known one that appears twice. See bcfile.c for the contents of
** each section.
*/
#ifndef FUNNEL_BCFILE_H
#define FUNNEL_BCFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bytecode/chunk.h"

#define BC_FORMAT_MAJOR 1
#define BC_FORMAT_MINOR 0
#define BC_FLAG_STRIPPED 1u
#define BC_HEADER_SIZE 32
/* A string index meaning "no string" (a NULL title, say). */
#define BC_NO_STRING 0xFFFFFFFFu

/* Writes the chunk to `out`; with strip_debug, without line numbers.
** Returns 0, or -1 if the chunk cannot be stored (a constant of a type the
** file has no encoding for, a count over 2^32) or writing failed. The chunk
** is not verified here. */
int bc_write(const Chunk *c, FILE *out, bool strip_debug);

/* Reads a chunk from `len` bytes at `data` (which the caller keeps).
** Returns a verified chunk (free it with chunk_free), or NULL with a
** one-line message in err ("not a .pipec file", "checksum mismatch: the file
** is damaged", "function 3: instruction 17: jump target 40 out of range
** (0..19)"). Never reads outside data[0..len). */
Chunk *bc_read(const uint8_t *data, size_t len, char *err, size_t errlen);

/* Is the file a .pipec? By its magic, not its name (false if unreadable). */
bool bc_is_file(const char *path);
/* bc_read on a whole file; NULL with "PATH: why" or "cannot read PATH: ..." in err. */
Chunk *bc_read_file(const char *path, char *err, size_t errlen);

/* Checks every instruction and every table of the chunk (see bcfile.c for
** the rules). Returns true, or false with a one-line message in err. Safe
** on any chunk whose arrays hold the number of items their counts say. */
bool bc_verify(const Chunk *c, char *err, size_t errlen);

/* What an operand of an instruction means, derived from the synopsis in
** opcodes.def ("R[A] = K[Bx]": A is a register, Bx a constant). */
typedef enum BcOperandKind {
  OPK_NONE,     /* not used */
  OPK_IMM,      /* an immediate number (a count, a flag, sBx of LOADI) */
  OPK_REG,      /* R[x] */
  OPK_CONST,    /* K[x] */
  OPK_FUNC,     /* F[x] */
  OPK_STAGE,    /* S[x] */
  OPK_ENTITY,   /* E[x] */
  OPK_FIELD,    /* D[x] */
  OPK_BUILTIN,  /* N[x] */
  OPK_EVENT,    /* V[x] */
  OPK_NATIVE,   /* T[x] */
  OPK_JUMP      /* sBx or sJ of an instruction whose synopsis says "pc +=" */
} BcOperandKind;

/* The operands of one opcode: index 0 is A, 1 B, 2 C, 3 the wide operand
** (Bx, sBx or sJ, by format). For registers, span[i] is the highest fixed
** n of an R[x+n] in the synopsis, and var[i] says that a range of
** registers starts there whose length is only known per instruction
** (R[A+n-1], R[B+C-1], R[A+1+i]). */
typedef enum BcConstShape {
  KS_ANY,       /* any constant */
  KS_TEXT,      /* the synopsis says "K[x] a text" */
  KS_KEYS       /* the synopsis says "a list of texts" */
} BcConstShape;

typedef struct BcOpInfo {
  uint8_t kind[4];
  uint8_t span[4];
  bool var[4];
  bool is_jump;
  uint8_t const_shape;   /* BcConstShape of its K[x] operand */
} BcOpInfo;

void bc_op_info(OpCode op, BcOpInfo *out);

/* CRC-32 with the IEEE polynomial (as zlib's crc32), continuing from crc
** (start with 0). */
uint32_t bc_crc32(uint32_t crc, const uint8_t *p, size_t n);

/* The operands of an instruction by slot: A, B, C and, by its format,
** Bx, sBx or sJ in the fourth. */
void bc_operands(Instr ins, int64_t val[4]);

#endif
