package terminal

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/argon2"
)

// Role is what an operator may do.
type Role string

const (
	RoleAttendant  Role = "attendant"  // sells, settles, opens and closes own shift
	RoleSupervisor Role = "supervisor" // also voids, refunds, reprints, adds operators
)

// Lockout policy: after MaxPINFailures wrong PINs in a row, the operator is
// locked for LockoutPeriod.
const (
	MaxPINFailures = 5
	LockoutPeriod  = 15 * time.Minute
)

// Operator is a person who signs in at the terminal.
type Operator struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Role        Role      `json:"role"`
	PINHash     string    `json:"-"`
	Failures    int       `json:"-"`
	LockedUntil time.Time `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
	// DisabledAt is when a supervisor disabled the operator (zero: active).
	DisabledAt time.Time `json:"disabled_at,omitzero"`
}

var (
	nameRE = regexp.MustCompile(`^[a-z][a-z0-9._-]{1,31}$`)
	pinRE  = regexp.MustCompile(`^[0-9]{4,12}$`)
)

// ValidateName checks an operator name: 2–32 lower-case letters, digits,
// dots, dashes or underscores, starting with a letter.
func ValidateName(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if !nameRE.MatchString(n) {
		return "", Errorf(EINVALID, "operator name %q is not valid: 2–32 letters, digits, '.', '-' or '_', starting with a letter", name)
	}
	return n, nil
}

// ValidateRole checks a role.
func ValidateRole(r string) (Role, error) {
	switch Role(r) {
	case RoleAttendant, RoleSupervisor:
		return Role(r), nil
	}
	return "", Errorf(EINVALID, "role %q is not valid: attendant or supervisor", r)
}

// ValidatePIN checks a new PIN: 4–12 digits.
func ValidatePIN(pin string) error {
	if !pinRE.MatchString(pin) {
		return Errorf(EINVALID, "a PIN is 4 to 12 digits")
	}
	return nil
}

// argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane). A PIN is
// short, so the hash is slow by design and the lockout does the rest.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPIN hashes a PIN with argon2id and a random salt, in the PHC string
// format.
func HashPIN(pin string) (string, error) {
	if err := ValidatePIN(pin); err != nil {
		return "", err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(pin), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// ValidPINHash reports whether hash is exactly what HashPIN makes: argon2id
// with this package's parameters, a 16-byte salt and a 32-byte key. A hash
// from elsewhere (another terminal, through the site feed) must pass it
// before it is stored: CheckPIN takes the cost from the hash, and a forged
// one could ask for a gigabyte a login.
func ValidPINHash(hash string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", argonMemory, argonTime, argonThreads) {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	return err1 == nil && err2 == nil && len(salt) == 16 && len(key) == argonKeyLen
}

// CheckPIN reports whether pin matches a hash made by HashPIN.
func CheckPIN(hash, pin string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 16 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pin), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// ScopeSite is the scope of an operator who signs in at every terminal of
// the site (added by a supervisor, spread by the hub's feed); ScopeTerminal
// of one known only where it was added.
const (
	ScopeSite     = "site"
	ScopeTerminal = "terminal"
)

// FromFeed reports whether r, read from another terminal's operator event,
// is a well-formed site operator: a UUID, a name exactly as ValidateName
// leaves it, a known role and, when withPIN, a PIN hash exactly as HashPIN
// makes. The feed ignores anything else: it cannot name an operator this
// terminal could not have added itself.
func (r OperatorRecord) FromFeed(withPIN bool) bool {
	if r.Scope != ScopeSite || (withPIN && !ValidPINHash(r.PINHash)) {
		return false
	}
	if _, err := uuid.Parse(r.ID); err != nil {
		return false
	}
	if name, err := ValidateName(r.Name); err != nil || name != r.Name {
		return false
	}
	_, err := ValidateRole(string(r.Role))
	return err == nil
}

// HeldOperator is the operator a terminal holds under a name that an
// operator from the feed, with another id, also has.
type HeldOperator struct {
	ID      string
	Own     bool      // added at this terminal
	AddedAt time.Time // when it was added, wherever that was
	Worked  bool      // it has opened a shift at this terminal
}

// KeepsName is the operator merge: whether the held operator keeps the
// name against the one from the feed (id, added at addedAt). This
// terminal's own stays; one from elsewhere gives way to an earlier one
// (then to a smaller id), so that every terminal of the site ends with the
// same whatever the feed's order, unless it has worked here: its shifts
// and their sales name it. The hub's report names the clash
// (operator_added_twice).
func (h HeldOperator) KeepsName(id string, addedAt time.Time) bool {
	switch {
	case h.Own, h.AddedAt.Before(addedAt), h.AddedAt.Equal(addedAt) && h.ID < id:
		return true
	}
	return h.Worked
}
