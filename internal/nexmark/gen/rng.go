package gen

import (
	"math"
	"math/bits"
	"strings"
)

// rng is splitmix64, seeded with an event id for each event: cheap to seed, and no allocation per
// event. Beam seeds a java.util.Random and nexmark-rs a SmallRng with the event id in the same way
// (Flink's generator uses an unseeded Random, so its events are not reproducible).
type rng struct{ s uint64 }

func newRNG(seed uint64) rng { return rng{s: seed * 0x9e3779b97f4a7c15} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// intn returns a uniform value in [0, n); n must be positive.
func (r *rng) intn(n int64) int64 {
	// Lemire's multiply-shift; the bias for n far below 2^64 is negligible here.
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int64(hi)
}

// float64 returns a uniform value in [0, 1).
func (r *rng) float64() float64 { return float64(r.next()>>11) / (1 << 53) }

// price is a price in cents, log-uniform between $1 and $1,000,000 (Flink's PriceGenerator).
func (r *rng) price() int64 { return int64(math.Round(math.Pow(10, r.float64()*6) * 100)) }

// nextString is a random string of lower-case letters, about one in 13 of them sep, of length 3 to
// max-1 before trimming (Flink's StringsGenerator.nextString; the urls use '_').
func (r *rng) nextString(max int, sep byte) string {
	n := minStringLen + r.intn(int64(max-minStringLen))
	b := make([]byte, n)
	for i := range b {
		if r.intn(13) == 0 {
			b[i] = sep
		} else {
			b[i] = byte('a' + r.intn(26))
		}
	}
	return strings.TrimSpace(string(b))
}

// exactString is n random lower-case letters.
func (r *rng) exactString(n int) string {
	b := make([]byte, n)
	for i := 0; i < n; {
		v := r.next()
		for j := 0; j < 12 && i < n; j++ { // 26^12 < 2^64
			b[i] = byte('a' + v%26)
			v /= 26
			i++
		}
	}
	return string(b)
}

// nextExtra pads an event whose other fields take size bytes to avg bytes on average: a string of
// avg-size ± 20% letters, nothing when size is already above avg (StringsGenerator.nextExtra).
func (r *rng) nextExtra(size, avg int) string {
	if size > avg {
		return ""
	}
	avg -= size
	delta := int(math.Round(float64(avg) * 0.2))
	n := avg - delta
	if delta > 0 {
		n += int(r.intn(int64(2 * delta)))
	}
	return r.exactString(n)
}
