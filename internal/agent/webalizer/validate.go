package webalizer

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"kontor/internal/agent"
	"kontor/internal/panel"
)

// Every value that reaches a file or a command line is checked again
// here against an allow-list, even though the store refused bad input
// already: the agent runs as root.

// user is the checked form of agent.User.
type user struct {
	login   string
	uid     int
	home    string
	domains []string // punycode, sorted
	auth    []string // htpasswd lines, in the given order, without repeats
}

// maxUID keeps uids out of the range the kernel reserves ((uid_t)-1).
const maxUID = 1<<31 - 2

// indexName is the page in html/webalizer that links the sites.
const indexName = "index.html"

// htpasswdHash is the bcrypt form Apache verifies: $2a$, $2b$ or $2y$, a
// two-digit cost and 53 characters of bcrypt's base64.
var htpasswdHash = regexp.MustCompile(`^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$`)

// checkUser validates one user with the service.
func checkUser(u agent.User, opt Options) (*user, error) {
	wrap := func(err error) error {
		login := u.Login
		if panel.ValidateLogin("login", login) != nil {
			login = fmt.Sprintf("#%d", u.ID)
		}
		return fmt.Errorf("webalizer: user %s: %w", login, err)
	}
	if err := panel.ValidateLogin("login", u.Login); err != nil {
		return nil, wrap(err)
	}
	// setpriv would happily run Webalizer as root or a system account.
	if u.UID < opt.MinUID || u.UID > maxUID {
		return nil, wrap(panel.Invalid("uid", "err.webalizer.uid"))
	}
	if err := agent.CheckPath("home", u.Home, opt.HomeBase); err != nil {
		return nil, wrap(err)
	}
	cu := &user{login: u.Login, uid: u.UID, home: u.Home}
	seen := make(map[string]bool, len(u.Domains))
	for i, d := range u.Domains {
		field := fmt.Sprintf("domains[%d].name", i)
		n, err := panel.NormalizeDomain(field, d.Name)
		if err != nil {
			return nil, wrap(err)
		}
		if n != d.Name {
			return nil, wrap(panel.Invalid(field, "err.domain.not_normalized"))
		}
		// The site's folder sits next to the index page.
		if n == indexName {
			return nil, wrap(panel.Invalid(field, "err.domain.reserved"))
		}
		if seen[n] {
			return nil, wrap(panel.Conflict(field, "err.domain.taken"))
		}
		seen[n] = true
		cu.domains = append(cu.domains, n)
	}
	sort.Strings(cu.domains)
	lines := make(map[string]bool, len(u.WebAuth))
	for i, l := range u.WebAuth {
		if err := checkAuthLine(l); err != nil {
			return nil, wrap(panel.Invalid(fmt.Sprintf("web_auth[%d]", i), "err.hash.format"))
		}
		if !lines[l] {
			lines[l] = true
			cu.auth = append(cu.auth, l)
		}
	}
	return cu, nil
}

// checkAuthLine accepts "login:bcrypt" with a panel login (user or
// reseller) and nothing else: no second colon, no space, no line break.
func checkAuthLine(l string) error {
	login, hash, ok := strings.Cut(l, ":")
	if !ok {
		return panel.Invalid("web_auth", "err.hash.format")
	}
	if err := panel.ValidateLogin("web_auth", login); err != nil {
		return err
	}
	if !htpasswdHash.MatchString(hash) {
		return panel.Invalid("web_auth", "err.hash.format")
	}
	return nil
}

// checkName accepts a program name looked up in PATH.
func checkName(field, n string) error {
	if n == "" || n == "." || n == ".." || n[0] == '-' || len(n) > 255 {
		return panel.Invalid(field, "err.path.chars")
	}
	for i := 0; i < len(n); i++ {
		if !agent.PathByte(n[i]) || n[i] == '/' {
			return panel.Invalid(field, "err.path.chars")
		}
	}
	return nil
}
