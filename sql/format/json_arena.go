package format

import (
	"unsafe"

	"github.com/seichedb/seiche/sql/types"
)

// A value in a row is an interface, so converting an int64 above 255, a float64 or a string into one
// allocates a copy of it, and a string's bytes are an allocation of their own: a Nexmark bid's five
// columns took six. The fast path instead gives the values of one record a recordArena: one
// allocation holding their numbers and their strings' bytes, which the values point into.
//
// This is safe because values are never modified once made (a conversion to an interface copies, and
// nothing writes through one), so values may share their memory. The cost is retention: while any
// value of a record is kept, the whole arena is, at most the size of the record's read columns.

// recordArena is the memory of one record's numbers and strings. The numbers come first, 8 bytes
// each, then the strings' headers, 16 bytes each, then the strings' bytes; the caller sizes it from
// the record's fields before decoding.
//
// The arena is allocated as words without pointers, which the garbage collector never scans, yet a
// string header holds a pointer. That is safe only because a header in the arena points into the
// same arena (arenaString refuses any other string): whatever keeps the header reachable (a Value's
// data word, an interior pointer) keeps the arena, and with it the bytes, alive, and Go's collector
// does not move heap objects. The header is written as two plain words, so no write barrier sees a
// pointer stored into memory it does not scan.
type recordArena struct {
	buf []byte
	// nums, hdrs and strs are the next free byte of each part; numsEnd and hdrsEnd are where the
	// numbers' and the headers' parts end.
	nums, numsEnd, hdrs, hdrsEnd, strs int
}

// init makes a's memory for nums numbers, and strs strings of strBytes bytes in all.
func (a *recordArena) init(nums, strs, strBytes int) {
	n := nums*8 + strs*16 + strBytes
	if n == 0 {
		*a = recordArena{}
		return
	}
	// Allocated as words, so that every number and header is 8-byte aligned.
	words := make([]uint64, (n+7)/8)
	hdrs := nums * 8
	*a = recordArena{buf: unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8),
		numsEnd: hdrs, hdrs: hdrs, hdrsEnd: hdrs + strs*16, strs: hdrs + strs*16}
}

// arenaString returns s as a Value whose header is stored in the arena, so that making it allocates
// nothing; ok is false when the arena has no room for a header, or when s's bytes are not in the
// arena (then the header could not keep them alive: see recordArena).
func arenaString(a *recordArena, s string) (types.Value, bool) {
	if len(s) == 0 {
		return s, true // "" is boxed without allocating
	}
	if a == nil || a.hdrs+16 > a.hdrsEnd {
		return nil, false
	}
	base, p := uintptr(unsafe.Pointer(unsafe.SliceData(a.buf))), uintptr(unsafe.Pointer(unsafe.StringData(s)))
	if p < base+uintptr(a.hdrsEnd) || p+uintptr(len(s)) > base+uintptr(len(a.buf)) {
		return nil, false
	}
	h := (*[2]uintptr)(unsafe.Pointer(&a.buf[a.hdrs]))
	h[0], h[1] = p, uintptr(len(s))
	a.hdrs += 16
	v := types.Value("")
	(*eface)(unsafe.Pointer(&v)).data = unsafe.Pointer(h)
	return v, true
}

// arenaNum are the types of the numbers an arena holds: none is pointer-shaped, so an interface
// holding one points at its data (boxAt).
type arenaNum interface {
	int32 | int64 | float64 | types.TimestampValue | types.TimeValue | types.DateValue
}

// arenaNumber returns a Value of type T holding v (in 8 bytes, whatever T's size), stored in the
// arena; ok is false when the arena has no room left for numbers.
func arenaNumber[T arenaNum](a *recordArena, v T) (types.Value, bool) {
	if a == nil || a.nums+8 > a.numsEnd { // nil, or no room: the caller boxes v itself
		return nil, false
	}
	p := (*T)(unsafe.Pointer(&a.buf[a.nums]))
	*p = v
	a.nums += 8
	return boxAt(p), true
}

// bytesFor returns room for n bytes of a string, or nil when the arena has less left.
func (a *recordArena) bytesFor(n int) []byte {
	if a == nil || a.strs+n > len(a.buf) {
		return nil
	}
	b := a.buf[a.strs : a.strs : a.strs+n]
	a.strs += n
	return b
}

// boxAt returns *p as a Value whose data refers to *p itself rather than to a copy. *p must never be
// modified afterwards.
func boxAt[T arenaNum](p *T) types.Value {
	var zero T
	v := types.Value(zero) // a zero number or "" is boxed without allocating
	(*eface)(unsafe.Pointer(&v)).data = unsafe.Pointer(p)
	return v
}

// eface is the layout of a Go interface value without methods: its type, and a pointer to its data
// (for the types boxAt takes; a pointer-shaped type is stored in the word itself).
type eface struct {
	typ, data unsafe.Pointer
}
