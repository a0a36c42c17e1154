// Header-only module: see include/libfuzzer.h.
#include "libfuzzer.h"
