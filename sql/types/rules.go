package types

// ksqlDB's implicit typing rules.

// decimalOfIntegral is the DECIMAL an integral type widens to: INT is DECIMAL(10, 0), BIGINT DECIMAL(19, 0).
func decimalOfIntegral(t *Type) *Type {
	switch t.Kind {
	case KindInt:
		return DecimalOf(10, 0)
	case KindBigint:
		return DecimalOf(19, 0)
	}
	return t
}

// NumericRank orders the numeric kinds by widening: INT < BIGINT < DECIMAL < DOUBLE; 0 for other kinds.
func NumericRank(k Kind) int {
	switch k {
	case KindInt:
		return 1
	case KindBigint:
		return 2
	case KindDecimal:
		return 3
	case KindDouble:
		return 4
	}
	return 0
}

// CanWiden reports whether a value of type from is implicitly accepted where to is expected
// (ksqlDB's SqlTypeWalker/implicit cast rules for function arguments and INSERT): identical types, NULL to
// anything, INT → BIGINT → DECIMAL → DOUBLE, any DECIMAL to a DECIMAL, and element-wise for ARRAY/MAP/STRUCT.
func CanWiden(from, to *Type) bool {
	if from.Kind == KindNull {
		return true
	}
	if from.Equal(to) {
		return true
	}
	if from.IsNumeric() && to.IsNumeric() {
		if to.Kind == KindDecimal && from.Kind == KindDecimal {
			return from.Precision-from.Scale <= to.Precision-to.Scale && from.Scale <= to.Scale
		}
		if to.Kind == KindDecimal {
			d := decimalOfIntegral(from)
			return d.Kind == KindDecimal && d.Precision <= to.Precision-to.Scale+d.Scale
		}
		return NumericRank(from.Kind) <= NumericRank(to.Kind)
	}
	switch {
	case from.Kind == KindArray && to.Kind == KindArray:
		return CanWiden(from.Elem, to.Elem)
	case from.Kind == KindMap && to.Kind == KindMap:
		return CanWiden(from.Key, to.Key) && CanWiden(from.Elem, to.Elem)
	case from.Kind == KindStruct && to.Kind == KindStruct:
		if len(from.Fields) != len(to.Fields) {
			return false
		}
		for i := range from.Fields {
			if from.Fields[i].Name != to.Fields[i].Name || !CanWiden(from.Fields[i].Type, to.Fields[i].Type) {
				return false
			}
		}
		return true
	}
	return false
}

// CommonType returns the type both a and b widen to (for CASE branches, IN lists, ARRAY[...] elements,
// COALESCE), or nil when there is none. NULL takes the other side's type.
func CommonType(a, b *Type) *Type {
	switch {
	case a.Kind == KindNull:
		return b
	case b.Kind == KindNull:
		return a
	case a.Equal(b):
		return a
	case a.IsNumeric() && b.IsNumeric():
		if a.Kind == KindDouble || b.Kind == KindDouble {
			return Double
		}
		if a.Kind == KindDecimal || b.Kind == KindDecimal {
			da, db := decimalOfIntegral(a), decimalOfIntegral(b)
			s := max(da.Scale, db.Scale)
			ip := max(da.Precision-da.Scale, db.Precision-db.Scale)
			return DecimalOf(min(ip+s, MaxDecimalPrecision), s)
		}
		if NumericRank(a.Kind) > NumericRank(b.Kind) {
			return a
		}
		return b
	case a.Kind == KindArray && b.Kind == KindArray:
		if e := CommonType(a.Elem, b.Elem); e != nil {
			return ArrayOf(e)
		}
	case a.Kind == KindMap && b.Kind == KindMap:
		k, v := CommonType(a.Key, b.Key), CommonType(a.Elem, b.Elem)
		if k != nil && v != nil {
			return MapOf(k, v)
		}
	}
	return nil
}

// ArithOp is a binary arithmetic operator.
type ArithOp uint8

const (
	Add ArithOp = iota
	Sub
	Mul
	Div
	Mod
)

func (o ArithOp) String() string { return [...]string{"+", "-", "*", "/", "%"}[o] }

// ArithResult is the result type of a op b under ksqlDB's rules, or nil if the operands are not numeric.
// INT op INT is INT, with BIGINT it is BIGINT, anything with DOUBLE is DOUBLE, and DECIMAL with an
// integral or DECIMAL operand is a DECIMAL with SQL Server's precision/scale rules (which ksqlDB follows):
//
//   - -  s = max(s1, s2)               p = s + max(p1-s1, p2-s2) + 1
//   - s = s1 + s2                   p = p1 + p2 + 1
//     /    s = max(6, s1 + p2 + 1)       p = p1 - s1 + s2 + s
//     %    s = max(s1, s2)               p = min(p1-s1, p2-s2) + s
//
// Precision is capped at 38.
func ArithResult(op ArithOp, a, b *Type) *Type {
	if !a.IsNumeric() || !b.IsNumeric() {
		return nil
	}
	if a.Kind == KindDouble || b.Kind == KindDouble {
		return Double
	}
	if a.Kind == KindDecimal || b.Kind == KindDecimal {
		da, db := decimalOfIntegral(a), decimalOfIntegral(b)
		p1, s1, p2, s2 := da.Precision, da.Scale, db.Precision, db.Scale
		var p, s int
		switch op {
		case Add, Sub:
			s = max(s1, s2)
			p = s + max(p1-s1, p2-s2) + 1
		case Mul:
			s = s1 + s2
			p = p1 + p2 + 1
		case Div:
			s = max(6, s1+p2+1)
			p = p1 - s1 + s2 + s
		case Mod:
			s = max(s1, s2)
			p = min(p1-s1, p2-s2) + s
		}
		if p > MaxDecimalPrecision {
			p = MaxDecimalPrecision
		}
		if s > p {
			s = p
		}
		return DecimalOf(p, s)
	}
	if a.Kind == KindBigint || b.Kind == KindBigint {
		return Bigint
	}
	return Int
}
