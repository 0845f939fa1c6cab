// Package statebin is the binary encoding shared by the saved states of
// env's layers (the market env, Vec, the guard and the wrappers): a small,
// versioned, self-describing little-endian format so that one
// MarshalBinary on the outermost env of a stack captures the whole stack,
// and a state restored into the wrong layer, the wrong shape or another
// format version fails with a clear error instead of a panic later.
//
// # Format
//
// Every layer's state starts with a 4-byte magic naming the layer (Kind
// maps the known ones to names, so errors can say "a Guard state" rather
// than "bad magic") and a uint16 format version, followed by the layer's
// fields in an order fixed by the layer. Integers are 64-bit, floats their
// IEEE-754 bits (so a round trip is exact), booleans one byte, slices and
// byte strings a uint64 length then the elements, times a flag byte and
// Unix seconds and nanoseconds (restored in UTC). A wrapper appends its
// inner env's state as a byte string, so states nest.
//
// # Errors
//
// Decoding errors wrap ErrState. A Decoder records the first error and
// turns every later read into a no-op returning zero values, so a layer
// reads all its fields and checks Err once; Finish also rejects trailing
// bytes. Nothing here allocates more than the data it decodes, and a length
// read from the data is checked against the bytes left before allocating.
//
// statebin imports only the standard library. It is internal to env and
// its subpackages.
package statebin
