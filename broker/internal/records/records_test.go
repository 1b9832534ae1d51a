package records

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/klauspost/compress/snappy"
)

func testRecords(n int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{
			TimestampDelta: int64(i * 3),
			OffsetDelta:    int32(i),
			Key:            []byte(fmt.Sprintf("key-%d", i%7)),
			Value:          bytes.Repeat([]byte{byte('a' + i%26)}, 50+i),
		}
		if i%5 == 0 {
			recs[i].Value = nil // tombstone
			recs[i].Headers = []RecordHeader{{Key: "h", Value: []byte("v")}, {Key: "null"}}
		}
	}
	return recs
}

func TestEncodeDecodeEveryCodec(t *testing.T) {
	h := Header{BaseOffset: 42, PartitionLeaderEpoch: -1, FirstTimestamp: 1000, MaxTimestamp: 1300,
		ProducerID: 7, ProducerEpoch: 2, BaseSequence: 11}
	want := testRecords(100)
	for _, c := range []Codec{None, Gzip, Snappy, LZ4, Zstd} {
		t.Run(c.String(), func(t *testing.T) {
			batch, err := Encode(nil, h, want, c)
			if err != nil {
				t.Fatal(err)
			}
			gh, got, err := Decode(batch)
			if err != nil {
				t.Fatal(err)
			}
			if gh.Codec() != c || gh.NumRecords != 100 || gh.LastOffsetDelta != 99 || gh.BaseOffset != 42 ||
				gh.ProducerID != 7 || gh.ProducerEpoch != 2 || gh.BaseSequence != 11 || gh.LastSequence() != 110 {
				t.Fatalf("header %+v", gh)
			}
			if len(got) != len(want) {
				t.Fatalf("%d records, want %d", len(got), len(want))
			}
			for i := range want {
				w, g := want[i], got[i]
				if g.OffsetDelta != w.OffsetDelta || g.TimestampDelta != w.TimestampDelta || !bytes.Equal(g.Key, w.Key) ||
					!bytes.Equal(g.Value, w.Value) || (g.Value == nil) != (w.Value == nil) || len(g.Headers) != len(w.Headers) {
					t.Fatalf("record %d: got %+v want %+v", i, g, w)
				}
				for j := range w.Headers {
					if g.Headers[j].Key != w.Headers[j].Key || !bytes.Equal(g.Headers[j].Value, w.Headers[j].Value) ||
						(g.Headers[j].Value == nil) != (w.Headers[j].Value == nil) {
						t.Fatalf("record %d header %d: %+v", i, j, g.Headers[j])
					}
				}
			}
		})
	}
}

func TestSnappyPlainBlock(t *testing.T) {
	// Go and C clients send snappy as one raw block, the Java client with xerial framing; both decode.
	body := bytes.Repeat([]byte("seiche "), 1000)
	for _, enc := range [][]byte{snappy.Encode(nil, body), xerialEncode(nil, body)} {
		got, err := decompress(enc, Snappy)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("decompress: %v", err)
		}
	}
}

func TestVerifyRejectsCorruption(t *testing.T) {
	batch, err := Encode(nil, Header{}, testRecords(3), None)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(batch); err != nil {
		t.Fatal(err)
	}
	// The fields outside the CRC may change freely.
	SetBaseOffset(batch, 99)
	SetPartitionLeaderEpoch(batch, 3)
	if h, err := Verify(batch); err != nil || h.BaseOffset != 99 || h.PartitionLeaderEpoch != 3 {
		t.Fatalf("after patching: %+v %v", h, err)
	}
	SetMaxTimestampAndLogAppendTime(batch, 5555)
	if h, err := Verify(batch); err != nil || !h.LogAppendTime() || h.MaxTimestamp != 5555 {
		t.Fatalf("after log append time: %+v %v", h, err)
	}
	bad := bytes.Clone(batch)
	bad[len(bad)-1] ^= 1
	if _, err := Verify(bad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flipped bit: %v", err)
	}
	if _, err := Verify(batch[:len(batch)-1]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated: %v", err)
	}
	old := bytes.Clone(batch)
	old[offMagic] = 1
	if _, err := Verify(old); !errors.Is(err, ErrUnsupportedMagic) {
		t.Fatalf("magic 1: %v", err)
	}
}

func TestSplit(t *testing.T) {
	a, _ := Encode(nil, Header{}, testRecords(2), None)
	b, _ := Encode(nil, Header{}, testRecords(5), Zstd)
	blob := append(bytes.Clone(a), b...)
	parts, err := Split(blob)
	if err != nil || len(parts) != 2 || !bytes.Equal(parts[0], a) || !bytes.Equal(parts[1], b) {
		t.Fatalf("split: %d parts, %v", len(parts), err)
	}
	if _, err := Split(blob[:len(blob)-3]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated blob: %v", err)
	}
	huge := bytes.Clone(a)
	binary.BigEndian.PutUint32(huge[offLength:], 1<<30)
	if _, err := Split(huge); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("oversized length: %v", err)
	}
}

// FuzzDecode feeds arbitrary bytes to the batch parser and decoder: they must return an error or records,
// never panic. Run it with: go test ./broker/internal/records -run '^$' -fuzz FuzzDecode
func FuzzDecode(f *testing.F) {
	for _, c := range []Codec{None, Gzip, Snappy, LZ4, Zstd} {
		b, _ := Encode(nil, Header{}, testRecords(4), c)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		batches, err := Split(blob)
		if err != nil {
			return
		}
		for _, b := range batches {
			// Fix the CRC so the fuzzer reaches the record decoder, not just the checksum.
			if len(b) >= HeaderSize {
				fixCRC(b)
			}
			h, recs, err := Decode(b)
			if err == nil && int32(len(recs)) != h.NumRecords {
				t.Fatalf("decoded %d records, header says %d", len(recs), h.NumRecords)
			}
		}
	})
}

func TestMarkerRoundTrip(t *testing.T) {
	for _, commit := range []bool{true, false} {
		b := EncodeMarker(42, 7, commit, 3, 1000)
		h, err := Verify(b)
		if err != nil {
			t.Fatal(err)
		}
		if !h.Control() || !h.Transactional() || h.ProducerID != 42 || h.ProducerEpoch != 7 || h.BaseSequence != -1 || h.NumRecords != 1 {
			t.Fatalf("marker header %+v", h)
		}
		typ, err := ParseControl(b)
		want := ControlAbort
		if commit {
			want = ControlCommit
		}
		if err != nil || typ != want {
			t.Fatalf("commit %v: control type %v %v", commit, typ, err)
		}
	}
	if _, err := ParseControl(EncodeMarker(1, 0, true, 0, 0)[:HeaderSize]); err == nil {
		t.Fatal("a truncated marker parsed")
	}
}
