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
// each, then the strings' bytes; the caller sizes it from the record's fields before decoding.
type recordArena struct {
	buf []byte
	// nums and strs are the next free byte of each part; numsEnd is where the numbers' part ends.
	nums, numsEnd, strs int
}

// init makes a's memory for nums numbers and strBytes bytes of strings.
func (a *recordArena) init(nums, strBytes int) {
	n := nums*8 + strBytes
	if n == 0 {
		*a = recordArena{}
		return
	}
	// Allocated as words, so that every number is 8-byte aligned.
	words := make([]uint64, (n+7)/8)
	*a = recordArena{buf: unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8), numsEnd: nums * 8, strs: nums * 8}
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
