package cli

import (
	"fmt"
	"strconv"
	"strings"

	"kontor/internal/panel"
)

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ", ") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// usageError is a mistake on the command line; it exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func resourceNames(rs []panel.Resource) string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

func serviceNames() string {
	ss := panel.Services()
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// parseValue reads a limit value: a whole number, -1 for unlimited.
func parseValue(flagName, spec, v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < panel.Unlimited {
		return 0, usagef("%s %q: %q is not a limit; enter a whole number, 0 for not available or -1 for unlimited", flagName, spec, v)
	}
	return n, nil
}

// parseResellerLimits reads RES=VALUE[:hard|:max][:unlimited] specs. The
// mode is a maximum unless :hard is given; :unlimited lets the reseller
// grant -1 to its users.
func parseResellerLimits(flagName string, specs []string) (panel.ResellerLimits, error) {
	out := panel.ResellerLimits{}
	for _, spec := range specs {
		name, rest, ok := strings.Cut(spec, "=")
		if !ok || name == "" || rest == "" {
			return nil, usagef("%s %q: expected RES=VALUE[:hard|:max][:unlimited], e.g. storage=10240:hard", flagName, spec)
		}
		r := panel.Resource(strings.TrimSpace(name))
		if !r.Valid() {
			return nil, usagef("%s %q: unknown resource %q (one of: %s)", flagName, spec, name, resourceNames(panel.ResellerResources()))
		}
		if _, dup := out[r]; dup {
			return nil, usagef("%s %q: resource %s is given twice", flagName, spec, r)
		}
		parts := strings.Split(rest, ":")
		v, err := parseValue(flagName, spec, parts[0])
		if err != nil {
			return nil, err
		}
		l := panel.ResellerLimit{Value: v, Mode: panel.ModeMaximum}
		modeSet := false
		for _, m := range parts[1:] {
			switch strings.TrimSpace(m) {
			case "hard", "max", "maximum":
				if modeSet {
					return nil, usagef("%s %q: give either :hard or :max, once", flagName, spec)
				}
				modeSet = true
				if m == "hard" {
					l.Mode = panel.ModeHard
				}
			case "unlimited":
				l.AllowUnlimited = true
			default:
				return nil, usagef("%s %q: unknown modifier %q (use :hard, :max or :unlimited)", flagName, spec, m)
			}
		}
		if l.Mode == panel.ModeHard && r == panel.ResTraffic {
			return nil, usagef("%s %q: traffic can never be a hard limit; it is shown, never enforced", flagName, spec)
		}
		if l.Mode == panel.ModeHard && l.AllowUnlimited && l.Value != panel.Unlimited {
			return nil, usagef("%s %q: :unlimited cannot be combined with a finite hard limit", flagName, spec)
		}
		out[r] = l
	}
	return out, nil
}

// parseUserLimits reads RES=VALUE specs for a user.
func parseUserLimits(flagName string, specs []string) (panel.Limits, error) {
	out := panel.Limits{}
	for _, spec := range specs {
		name, v, ok := strings.Cut(spec, "=")
		if !ok || name == "" || v == "" {
			return nil, usagef("%s %q: expected RES=VALUE, e.g. storage=1024", flagName, spec)
		}
		r := panel.Resource(strings.TrimSpace(name))
		if !r.Valid() || r == panel.ResUsers {
			return nil, usagef("%s %q: unknown resource %q (one of: %s)", flagName, spec, name, resourceNames(panel.Resources()))
		}
		if strings.Contains(v, ":") {
			return nil, usagef("%s %q: :hard, :max and :unlimited are for reseller limits; a user's limit is just a number", flagName, spec)
		}
		if _, dup := out[r]; dup {
			return nil, usagef("%s %q: resource %s is given twice", flagName, spec, r)
		}
		n, err := parseValue(flagName, spec, v)
		if err != nil {
			return nil, err
		}
		out[r] = n
	}
	return out, nil
}

// serviceLevel reads a service level: a number or a word.
func serviceLevel(s panel.Service, v string) (int, bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	words := map[string]int{"off": 0, "no": 0, "false": 0, "on": 1, "yes": 1, "true": 1, "max": s.MaxLevel()}
	switch s {
	case panel.SvcShell:
		words["none"], words["sftp"], words["full"] = panel.ShellNone, panel.ShellSFTP, panel.ShellFull
	case panel.SvcBackup:
		words["upload"] = panel.BackupUpload
	}
	if n, ok := words[v]; ok {
		return n, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > s.MaxLevel() {
		return 0, false
	}
	return n, true
}

// parseServices reads NAME=LEVEL specs; "all" (resellers only) sets every
// service to its highest level, and later specs override it.
func parseServices(flagName string, specs []string, allowAll bool) (panel.ServiceSet, error) {
	out := panel.ServiceSet{}
	for _, spec := range specs {
		if allowAll && strings.TrimSpace(spec) == "all" {
			for _, s := range panel.Services() {
				out[s] = s.MaxLevel()
			}
			continue
		}
		name, v, ok := strings.Cut(spec, "=")
		if !ok || name == "" || v == "" {
			return nil, usagef("%s %q: expected NAME=LEVEL, e.g. php=1 or shell=sftp", flagName, spec)
		}
		s := panel.Service(strings.TrimSpace(name))
		if !s.Valid() {
			return nil, usagef("%s %q: unknown service %q (one of: %s)", flagName, spec, name, serviceNames())
		}
		n, ok := serviceLevel(s, v)
		if !ok {
			return nil, usagef("%s %q: %q is not a level of %s (%s)", flagName, spec, v, s, levelHelp(s))
		}
		out[s] = n
	}
	return out, nil
}

func levelHelp(s panel.Service) string {
	switch s {
	case panel.SvcShell:
		return "0/none, 1/sftp, 2/full"
	case panel.SvcBackup:
		return "0/no, 1/yes, 2/upload"
	}
	return "0/off or 1/on"
}

// formatLimit shows a reseller limit the way set-limit reports it.
func formatLimit(l panel.ResellerLimit) string {
	v := strconv.FormatInt(l.Value, 10)
	switch l.Value {
	case panel.Unlimited:
		v = "unlimited"
	case 0:
		v = "0 (not available)"
	}
	s := v + ", " + string(l.Mode)
	if l.AllowUnlimited {
		s += ", may grant unlimited"
	}
	return s
}
