//go:build cgo

package main

// Importing "C" links the cgo runtime, which routes the Go runtime's own
// mmap and munmap through x_cgo_mmap and x_cgo_munmap (C, called on the
// system stack), as in Debian's Go builds. The preamble is empty.

import "C"

const cgoLinked = true
