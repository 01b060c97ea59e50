package bind

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"kontor/internal/agent"
)

// ServerKey is the key in RenderAll's errs for server-wide problems. It
// contains characters no login may have, so it never collides with a user.
const ServerKey = "(server)"

// Zone is one rendered zone.
type Zone struct {
	Domain string
	Body   []byte
	State  ZoneState
	// Changed is true when the content (apart from the serial) differs
	// from the previous state or there was none: the zone got a new serial
	// and needs writing and an rndc reload.
	Changed bool
}

// RenderUser renders every zone of one user: the incremental path, so a
// change to one user touches only that user's zones. prev holds the
// previous state by domain (nil for none); only entries owned by u are
// consulted. On any error no zone of the user is returned.
func RenderUser(srv agent.Server, u agent.User, prev map[string]ZoneState, today time.Time) ([]Zone, error) {
	s, err := checkServer(srv)
	if err != nil {
		return nil, err
	}
	return renderUser(s, &u, prev, today)
}

func renderUser(s *server, u *agent.User, prev map[string]ZoneState, today time.Time) ([]Zone, error) {
	if err := checkLogin(u.Login); err != nil {
		return nil, err
	}
	var zones []*zone
	seen := make(map[string]string)
	for i, d := range u.Domains {
		if !d.DNS {
			continue
		}
		field := "domains[" + strconv.Itoa(i) + "]"
		z, err := checkZone(s, u, field, d)
		if err != nil {
			return nil, err
		}
		if other, dup := seen[d.Name]; dup {
			return nil, fieldErr(u.Login, field+".name", d.Name, "listed twice (also %s)", other)
		}
		seen[d.Name] = field
		zones = append(zones, z)
	}
	slices.SortFunc(zones, func(a, b *zone) int { return cmp.Compare(a.name, b.name) })
	out := make([]Zone, 0, len(zones))
	for _, z := range zones {
		old, had := prev[z.name]
		if had && old.Owner != u.Login {
			// Another user's zone of the same name: its serial says
			// nothing about this content, but it must not go backwards
			// for the secondaries either, so continue from it.
			had = false
		}
		var buf bytes.Buffer
		off, n := z.render(s, old.Serial, &buf)
		body := buf.Bytes()
		h := hashWithout(body, off, n)
		zs := ZoneState{Owner: u.Login, Serial: old.Serial, Hash: h}
		changed := !had || h != old.Hash
		if changed {
			zs.Serial = NextSerial(old.Serial, today)
			// Splice the new serial in rather than render again: the
			// hash excludes the serial, so it stays valid.
			num := strconv.AppendUint(nil, uint64(zs.Serial), 10)
			nb := make([]byte, 0, len(body)-n+len(num))
			nb = append(nb, body[:off]...)
			nb = append(nb, num...)
			nb = append(nb, body[off+n:]...)
			body = nb
		}
		out = append(out, Zone{Domain: z.name, Body: body, State: zs, Changed: changed})
	}
	return out, nil
}

// RenderAll renders the zones of every user on the server and the named.conf
// fragment that declares them.
//
// prev is the state the caller recorded for each zone last time (keyed by
// domain; StateOf rebuilds it from files on disk). A zone keeps its serial
// when its content is unchanged, so an unchanged state renders byte-identical
// files; otherwise it gets NextSerial(old serial, today).
//
// Results:
//   - files: ZoneFile(domain) → zone body for every zone rendered now, and
//     NamedConfFile → the fragment. Keys are file names inside zoneDir.
//   - next: the state to record for the next run, by domain, for every zone
//     declared in the fragment. A zone whose serial differs from prev is the
//     one to write and reload.
//   - errs: by user login, the reason that user's zones were not rendered;
//     ServerKey for server-wide problems.
//
// One bad user never takes the others down: its zones are left out of
// files, but zones it had in prev stay declared in the fragment with their
// previous state, so BIND keeps serving the last good files on disk until
// the user is fixed (SYS-2). A server-wide problem (no name server, a bad
// shared address, a bad zoneDir) affects every zone: then files is nil and
// next equals prev, and the caller must change nothing.
//
// Two users claiming the same domain: the one with the lower ID (the older
// account) keeps it; the other gets an error.
func RenderAll(st agent.State, prev map[string]ZoneState, today time.Time, zoneDir string) (files map[string][]byte, next map[string]ZoneState, errs map[string]error) {
	errs = make(map[string]error)
	s, err := checkServer(st.Server)
	if err == nil {
		err = checkDir("zone_dir", zoneDir)
	}
	if err != nil {
		errs[ServerKey] = err
		return nil, copyState(prev), errs
	}

	users := make([]*agent.User, len(st.Users))
	for i := range st.Users {
		users[i] = &st.Users[i]
	}
	slices.SortStableFunc(users, func(a, b *agent.User) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Login, b.Login))
	})

	files = make(map[string][]byte, len(prev)+1)
	next = make(map[string]ZoneState, len(prev))
	owner := make(map[string]string) // domain → login that serves it
	logins := make(map[string]bool)
	failed := make(map[string]bool)
	fail := func(login string, err error) {
		errs[login] = errors.Join(errs[login], err)
		failed[login] = true
	}
	for _, u := range users {
		if logins[u.Login] {
			fail(u.Login, fieldErr(u.Login, "login", u.Login, "login used by more than one user"))
			continue
		}
		logins[u.Login] = true
		zones, err := renderUser(s, u, prev, today)
		if err == nil {
			for _, z := range zones {
				if o, taken := owner[z.Domain]; taken {
					err = fieldErr(u.Login, "domains.name", z.Domain, "already served for user %q", o)
					break
				}
			}
		}
		if err != nil {
			fail(u.Login, err)
			continue
		}
		for _, z := range zones {
			owner[z.Domain] = u.Login
			files[ZoneFile(z.Domain)] = z.Body
			next[z.Domain] = z.State
		}
	}
	// Keep the last good zones of users that failed now, unless the domain
	// went to someone else. The domain comes from the caller's record, so
	// it is checked like any other value before it reaches named.conf.
	for domain, ps := range prev {
		if !failed[ps.Owner] {
			continue
		}
		if _, taken := owner[domain]; taken {
			continue
		}
		if checkDomain(ps.Owner, "domain", domain) != nil {
			continue
		}
		owner[domain] = ps.Owner
		next[domain] = ps
	}

	refs := make([]ZoneRef, 0, len(owner))
	for d, o := range owner {
		refs = append(refs, ZoneRef{Domain: d, Owner: o})
	}
	conf, err := RenderNamedConf(refs, zoneDir)
	if err != nil {
		// Cannot happen: every domain and zoneDir was checked above. Treat
		// it as server-wide anyway rather than emit a partial fragment.
		errs[ServerKey] = fmt.Errorf("bind: named.conf fragment: %w", err)
		return nil, copyState(prev), errs
	}
	files[NamedConfFile] = conf
	return files, next, errs
}

func copyState(m map[string]ZoneState) map[string]ZoneState {
	out := make(map[string]ZoneState, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
