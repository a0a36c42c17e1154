// The header is the module (static inline functions); SwiftPM needs one source file.
