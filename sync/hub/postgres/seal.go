package postgres

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lango-pos/lango/terminal"
)

// SealKeySize is the size of the key that seals the authority keys.
const SealKeySize = 32

// sealer seals the site authority keys' PEM with AES-256-GCM under the key
// of the hub's key file, so the database alone (a dump, a standby, anyone
// granted SELECT) holds no usable private key. The additional data binds
// each sealed key to its kid and site: a sealed blob moved to another row
// does not open.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != SealKeySize {
		return nil, terminal.Errorf(terminal.EINVALID, "the authority key file holds %d bytes; want %d", len(key), SealKeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(plain []byte, ad string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, []byte(ad))
}

var errUnseal = errors.New("cannot unseal")

func (s *sealer) open(sealed []byte, ad string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errUnseal
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(ad))
	if err != nil {
		return nil, errUnseal
	}
	return out, nil
}

// LoadOrCreateKeyFile reads the authority key file at path, creating it
// (0600, random) if it does not exist. A file that its group or others can
// read is refused: it would undo what sealing buys.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, SealKeySize)
		if _, err := io.ReadFull(rand.Reader, key); err != nil {
			return nil, err
		}
		if err := writeNew(path, key); err != nil {
			return nil, err
		}
		return LoadOrCreateKeyFile(path)
	}
	if err != nil {
		return nil, terminal.Errorf(terminal.EINVALID, "authority key file: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, terminal.Errorf(terminal.EINVALID, "the authority key file %s can be read by others (mode %04o): chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	if len(b) != SealKeySize {
		return nil, terminal.Errorf(terminal.EINVALID, "the authority key file %s holds %d bytes; want %d: restore it from the hub's backup", path, len(b), SealKeySize)
	}
	return b, nil
}

// writeNew writes b to a new file at path, 0600: temp file, fsync, link
// (which fails if another process made the file meanwhile: that one wins).
func writeNew(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".authority-key-*")
	if err != nil {
		return fmt.Errorf("authority key file: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(f.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("authority key file: %w", err)
	}
	return nil
}
