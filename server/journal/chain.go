package journal

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"time"

	"github.com/entitle/entitle/server/store"
)

// Row is a journal row as stored.
type Row struct {
	ID           int64
	Organization string
	Seq          int64
	At           time.Time
	Actor        string
	Account      string
	Action       string
	Target       string
	IP           string
	UserAgent    string
	RequestID    string
	Details      string // JSON object, exactly as stored (the hash covers these bytes)
	PrevHash     string // hex; "" for seq 1
	Hash         string // hex SHA-256 (Hash)
}

// hashDomain starts every hashed encoding, so a journal hash cannot be
// mistaken for the hash of anything else, and names the encoding's version.
const hashDomain = "entitle-journal-v1"

// Hash is the row's chain hash: SHA-256 over hashDomain and every stored
// field but the id and the hash itself, in a fixed order, each written as an
// 8-byte big-endian length followed by its bytes (numbers as 8-byte
// big-endian values). Length prefixes make the encoding unambiguous: no two
// different rows encode to the same bytes, whatever their fields contain.
func Hash(r Row) string {
	h := sha256.New()
	field(h, []byte(hashDomain))
	field(h, []byte(r.Organization))
	number(h, r.Seq)
	field(h, []byte(r.PrevHash))
	number(h, store.Millis(r.At))
	for _, s := range []string{r.Actor, r.Account, r.Action, r.Target, r.IP, r.UserAgent, r.RequestID, r.Details} {
		field(h, []byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func field(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

func number(h hash.Hash, v int64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	field(h, b[:])
}
