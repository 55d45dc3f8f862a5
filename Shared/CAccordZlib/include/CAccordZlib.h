#ifndef C_ACCORD_ZLIB_H
#define C_ACCORD_ZLIB_H

#include <zlib.h>

/* zlib's deflateInit2 and inflateInit2 are macros, which Swift cannot call. */
int accord_deflate_init(z_streamp stream, int level);
int accord_inflate_init(z_streamp stream);

#endif
