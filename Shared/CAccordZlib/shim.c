#include "CAccordZlib.h"

/* zlib format (window bits 15, with header and Adler-32 trailer), default memory level. */
int accord_deflate_init(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY);
}

int accord_inflate_init(z_streamp stream) {
    return inflateInit2(stream, 15);
}
