// libFuzzer's driver entry point (compiler-rt FuzzerInterface.h), declared by hand: no package
// exports it to Swift. SwiftPM renames an executable's `main`, so msab-fuzz keeps its own @main
// and hands control to libFuzzer through this call instead of libFuzzer's own main.
#ifndef MSAB_LIBFUZZER_H
#define MSAB_LIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
