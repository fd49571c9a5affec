#ifndef MODULA_CZLIB_SHIM_H
#define MODULA_CZLIB_SHIM_H
// If this include fails: apt-get install zlib1g-dev
#include <zlib.h>
#endif
