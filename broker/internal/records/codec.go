package records

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Codec is a batch compression codec, numbered as in the batch attributes.
type Codec int8

// The codecs Kafka defines.
const (
	None   Codec = 0
	Gzip   Codec = 1
	Snappy Codec = 2
	LZ4    Codec = 3
	Zstd   Codec = 4
)

// MaxDecompressedBytes bounds what one batch may decompress to, so a small hostile batch cannot make the
// broker allocate without limit.
const MaxDecompressedBytes = 256 << 20

var codecNames = map[string]Codec{"none": None, "gzip": Gzip, "snappy": Snappy, "lz4": LZ4, "zstd": Zstd}

// ParseCodec parses a compression.type value naming a codec: none, gzip, snappy, lz4 or zstd.
func ParseCodec(s string) (Codec, error) {
	if c, ok := codecNames[s]; ok {
		return c, nil
	}
	return 0, fmt.Errorf("records: unknown compression codec %q", s)
}

func (c Codec) String() string {
	for name, v := range codecNames {
		if v == c {
			return name
		}
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

var (
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		e, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		return e
	})
	zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
		d, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(MaxDecompressedBytes))
		return d
	})
	gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}
)

// compress appends src compressed with c to dst.
func compress(dst, src []byte, c Codec) ([]byte, error) {
	switch c {
	case None:
		return append(dst, src...), nil
	case Gzip:
		buf := bytes.NewBuffer(dst)
		w := gzipWriters.Get().(*gzip.Writer)
		defer gzipWriters.Put(w)
		w.Reset(buf)
		if _, err := w.Write(src); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case Snappy:
		return xerialEncode(dst, src), nil
	case LZ4:
		buf := bytes.NewBuffer(dst)
		w := lz4.NewWriter(buf)
		if _, err := w.Write(src); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case Zstd:
		return zstdEncoder().EncodeAll(src, dst), nil
	}
	return nil, fmt.Errorf("records: unknown compression codec %d", c)
}

// decompress returns src decompressed with c.
func decompress(src []byte, c Codec) ([]byte, error) {
	switch c {
	case None:
		return src, nil
	case Gzip:
		r, err := gzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, err
		}
		return readLimited(r)
	case Snappy:
		if bytes.HasPrefix(src, xerialMagic) {
			return xerialDecode(src)
		}
		return snappyBlock(src)
	case LZ4:
		return readLimited(lz4.NewReader(bytes.NewReader(src)))
	case Zstd:
		return zstdDecoder().DecodeAll(src, nil)
	}
	return nil, fmt.Errorf("records: unknown compression codec %d", c)
}

func readLimited(r io.Reader) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, MaxDecompressedBytes+1))
	if err != nil {
		return nil, err
	}
	if len(out) > MaxDecompressedBytes {
		return nil, fmt.Errorf("records: batch decompresses to more than %d bytes", MaxDecompressedBytes)
	}
	return out, nil
}

func snappyBlock(src []byte) ([]byte, error) {
	n, err := snappy.DecodedLen(src)
	if err != nil {
		return nil, err
	}
	if n > MaxDecompressedBytes {
		return nil, fmt.Errorf("records: batch decompresses to more than %d bytes", MaxDecompressedBytes)
	}
	return snappy.Decode(nil, src)
}

// The Java client frames snappy with xerial's snappy-java stream format: a 16-byte header (magic,
// version, compatible version), then blocks each prefixed by a 4-byte big-endian length.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const xerialBlockSize = 32 << 10

func xerialDecode(src []byte) ([]byte, error) {
	if len(src) < 16 {
		return nil, fmt.Errorf("records: short xerial snappy header")
	}
	src = src[16:]
	var out []byte
	for len(src) > 0 {
		if len(src) < 4 {
			return nil, fmt.Errorf("records: truncated xerial snappy block length")
		}
		n := binary.BigEndian.Uint32(src)
		src = src[4:]
		if uint64(n) > uint64(len(src)) {
			return nil, fmt.Errorf("records: xerial snappy block of %d bytes in %d remaining", n, len(src))
		}
		block, err := snappyBlock(src[:n])
		if err != nil {
			return nil, err
		}
		if len(out)+len(block) > MaxDecompressedBytes {
			return nil, fmt.Errorf("records: batch decompresses to more than %d bytes", MaxDecompressedBytes)
		}
		out = append(out, block...)
		src = src[n:]
	}
	return out, nil
}

func xerialEncode(dst, src []byte) []byte {
	dst = append(dst, xerialMagic...)
	dst = binary.BigEndian.AppendUint32(dst, 1) // version
	dst = binary.BigEndian.AppendUint32(dst, 1) // minimum compatible version
	for len(src) > 0 {
		chunk := src[:min(len(src), xerialBlockSize)]
		src = src[len(chunk):]
		enc := snappy.Encode(nil, chunk)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(enc)))
		dst = append(dst, enc...)
	}
	return dst
}
