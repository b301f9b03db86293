#include "Version.h"

#ifndef MPQ_VERSION
#define MPQ_VERSION "unknown"
#endif

namespace mpq {

const char* version()
{
    return MPQ_VERSION;
}

} // namespace mpq
