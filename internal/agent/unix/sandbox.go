package unix

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"kontor/internal/agent"
	"kontor/internal/agent/fsys"
)

// sandboxRunner stands in for the shadow-utils in the demo (Options.Sandbox):
// it writes each command to env.Plan and applies what the command would do
// to passwd, group and shadow under the FS root, so the real /etc is never
// touched and the next run observes the accounts. It understands exactly
// the argument lists this package builds; other commands (setquota, the
// sshd check and reload) are only planned.
type sandboxRunner struct {
	fs   agent.FS
	plan func(string)
}

func (s sandboxRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.plan("sandbox: " + fsys.CommandLine(name, args...))
	flags, rest := parseFlags(args)
	if len(rest) != 1 {
		return nil, nil
	}
	target := rest[0]
	var err error
	switch path.Base(name) {
	case "groupadd":
		err = s.groupadd(target, flags)
	case "useradd":
		err = s.useradd(target, flags)
	case "usermod":
		err = s.usermod(target, flags)
	case "userdel":
		err = s.userdel(target)
	case "groupdel":
		err = s.edit(groupFile, func(lines [][]string) ([][]string, error) {
			return slices.DeleteFunc(lines, func(f []string) bool { return f[0] == target }), nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox %s %s: %w", path.Base(name), target, err)
	}
	return nil, nil
}

// parseFlags splits "-x value" pairs (and the lone flags -M, -L, -U,
// --system) from the positional arguments.
func parseFlags(args []string) (map[string]string, []string) {
	flags := map[string]string{}
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-M" || a == "-L" || a == "-U" || a == "--system":
			flags[a] = ""
		case strings.HasPrefix(a, "-") && i+1 < len(args):
			flags[a] = args[i+1]
			i++
		default:
			rest = append(rest, a)
		}
	}
	return flags, rest
}

// edit rewrites one of the account files through fn, which gets and
// returns the lines split into fields (comments and short lines are
// kept as they are).
func (s sandboxRunner) edit(file string, fn func([][]string) ([][]string, error)) error {
	b, err := s.fs.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var lines [][]string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			lines = append(lines, strings.Split(l, ":"))
		}
	}
	lines, err = fn(lines)
	if err != nil {
		return err
	}
	var out strings.Builder
	for _, f := range lines {
		out.WriteString(strings.Join(f, ":"))
		out.WriteByte('\n')
	}
	mode := fs.FileMode(0o644)
	if file == shadowFile {
		mode = 0o640
	}
	// A fresh sandbox root may not have /etc yet.
	if err := s.fs.MkdirAll(path.Dir(file), 0o755, -1, -1); err != nil {
		return err
	}
	_, err = s.fs.WriteFile(file, []byte(out.String()), mode, -1, -1)
	return err
}

func (s sandboxRunner) groupadd(name string, flags map[string]string) error {
	return s.edit(groupFile, func(lines [][]string) ([][]string, error) {
		used := map[int]bool{}
		for _, f := range lines {
			if len(f) == 4 && f[0] == name {
				return nil, fmt.Errorf("group '%s' already exists", name)
			}
			if len(f) == 4 {
				n, _ := strconv.Atoi(f[2])
				used[n] = true
			}
		}
		gid, ok := flags["-g"]
		if !ok {
			// --system: the highest free gid below 1000, as groupadd picks.
			n := 999
			for n > 100 && used[n] {
				n--
			}
			gid = strconv.Itoa(n)
		} else if n, _ := strconv.Atoi(gid); used[n] {
			return nil, fmt.Errorf("GID '%s' already exists", gid)
		}
		return append(lines, []string{name, "x", gid, ""}), nil
	})
}

func (s sandboxRunner) useradd(login string, flags map[string]string) error {
	// The real useradd changes its files under a lock, all or nothing.
	// Here they are written one by one, so the order makes a kill in
	// between harmless: shadow and the groups first (replacing what a
	// killed run left), passwd last, because the passwd line is what makes
	// the next run see the account as existing.
	err := s.edit(passwdFile, func(lines [][]string) ([][]string, error) {
		for _, f := range lines {
			if len(f) == 7 && (f[0] == login || f[2] == flags["-u"]) {
				return nil, fmt.Errorf("user '%s' or uid %s already exists", login, flags["-u"])
			}
		}
		return lines, nil
	})
	if err != nil {
		return err
	}
	err = s.edit(shadowFile, func(lines [][]string) ([][]string, error) {
		lines = slices.DeleteFunc(lines, func(f []string) bool { return f[0] == login })
		return append(lines, []string{login, "!", "", "0", "99999", "7", "", "", ""}), nil
	})
	if err != nil {
		return err
	}
	if err := s.setGroups(login, flags["-G"]); err != nil {
		return err
	}
	return s.edit(passwdFile, func(lines [][]string) ([][]string, error) {
		return append(lines, []string{login, "x", flags["-u"], flags["-g"], flags["-c"], flags["-d"], flags["-s"]}), nil
	})
}

func (s sandboxRunner) usermod(login string, flags map[string]string) error {
	err := s.edit(passwdFile, func(lines [][]string) ([][]string, error) {
		for _, f := range lines {
			if len(f) == 7 && f[0] == login {
				if v, ok := flags["-s"]; ok {
					f[6] = v
				}
				if v, ok := flags["-d"]; ok {
					f[5] = v
				}
				return lines, nil
			}
		}
		return nil, fmt.Errorf("user '%s' does not exist", login)
	})
	if err != nil {
		return err
	}
	if v, ok := flags["-G"]; ok {
		if err := s.setGroups(login, v); err != nil {
			return err
		}
	}
	_, lock := flags["-L"]
	_, unlock := flags["-U"]
	if !lock && !unlock {
		return nil
	}
	return s.edit(shadowFile, func(lines [][]string) ([][]string, error) {
		for _, f := range lines {
			if len(f) >= 2 && f[0] == login {
				if lock {
					f[1] = "!" + f[1]
				} else {
					f[1] = strings.TrimPrefix(f[1], "!")
				}
			}
		}
		return lines, nil
	})
}

// setGroups makes login a member of exactly the groups in list (comma
// separated), as usermod -G does.
func (s sandboxRunner) setGroups(login, list string) error {
	want := map[string]bool{}
	for _, g := range strings.Split(list, ",") {
		if g != "" {
			want[g] = true
		}
	}
	return s.edit(groupFile, func(lines [][]string) ([][]string, error) {
		for _, f := range lines {
			if len(f) != 4 {
				continue
			}
			var members []string
			if f[3] != "" {
				members = strings.Split(f[3], ",")
			}
			members = slices.DeleteFunc(members, func(m string) bool { return m == login })
			if want[f[0]] {
				members = append(members, login)
				delete(want, f[0])
			}
			f[3] = strings.Join(members, ",")
		}
		for g := range want {
			return nil, fmt.Errorf("group '%s' does not exist", g)
		}
		return lines, nil
	})
}

func (s sandboxRunner) userdel(login string) error {
	var gid string
	err := s.edit(passwdFile, func(lines [][]string) ([][]string, error) {
		for _, f := range lines {
			if len(f) == 7 && f[0] == login {
				gid = f[3]
			}
		}
		if gid == "" {
			return nil, fmt.Errorf("user '%s' does not exist", login)
		}
		return slices.DeleteFunc(lines, func(f []string) bool { return f[0] == login }), nil
	})
	if err != nil {
		return err
	}
	if err := s.setGroups(login, ""); err != nil {
		return err
	}
	// Like Debian's userdel with USERGROUPS_ENAB: the user's own group
	// goes too when it has the user's name and no other members.
	if err := s.edit(groupFile, func(lines [][]string) ([][]string, error) {
		return slices.DeleteFunc(lines, func(f []string) bool {
			return len(f) == 4 && f[0] == login && f[2] == gid && f[3] == ""
		}), nil
	}); err != nil {
		return err
	}
	return s.edit(shadowFile, func(lines [][]string) ([][]string, error) {
		return slices.DeleteFunc(lines, func(f []string) bool { return f[0] == login }), nil
	})
}
