package panel

// Service is one of the per-user switches of SVC-1.
type Service string

// The services of SVC-1. Most are on/off (0/1); Shell and Backup have levels.
const (
	SvcFTP           Service = "ftp"
	SvcPHP           Service = "php"
	SvcSSI           Service = "ssi"
	SvcPHPUpload     Service = "php_upload"
	SvcWAP           Service = "wap"
	SvcSSL           Service = "ssl"
	SvcDirListing    Service = "dir_listing"
	SvcCGI           Service = "cgi"
	SvcPython        Service = "python"
	SvcShell         Service = "shell"
	SvcColdFusion    Service = "coldfusion"
	SvcWebalizer     Service = "webalizer"
	SvcProtectedDirs Service = "protected_dirs"
	SvcErrorFiles    Service = "error_files"
	SvcWebFTP        Service = "webftp"
	SvcWebMail       Service = "webmail"
	SvcStdCGI        Service = "std_cgi"
	SvcSpamFilter    Service = "spam_filter"
	SvcBackup        Service = "backup"
)

// Levels of SvcShell.
const (
	ShellNone = 0
	ShellSFTP = 1 // SFTP/SCP only
	ShellFull = 2
)

// Levels of SvcBackup.
const (
	BackupNo     = 0
	BackupYes    = 1
	BackupUpload = 2 // backup and upload to FTP
)

// Services returns every service in display order.
func Services() []Service {
	return []Service{SvcFTP, SvcPHP, SvcSSI, SvcPHPUpload, SvcWAP, SvcSSL, SvcDirListing,
		SvcCGI, SvcPython, SvcShell, SvcColdFusion, SvcWebalizer, SvcProtectedDirs,
		SvcErrorFiles, SvcWebFTP, SvcWebMail, SvcStdCGI, SvcSpamFilter, SvcBackup}
}

// MaxLevel is the highest value the service takes (1 for on/off switches).
func (s Service) MaxLevel() int {
	switch s {
	case SvcShell, SvcBackup:
		return 2
	}
	return 1
}

// Valid reports whether s is a known service.
func (s Service) Valid() bool {
	for _, x := range Services() {
		if x == s {
			return true
		}
	}
	return false
}

// Field is the form field name of the service.
func (s Service) Field() string { return "service." + string(s) }

// ServiceSet maps services to their level; a missing service is off (0).
// On a reseller it is the highest level the reseller may hand out.
type ServiceSet map[Service]int

// On reports whether s is enabled at any level.
func (ss ServiceSet) On(s Service) bool { return ss[s] > 0 }

// Validate checks that every entry is a known service at a valid level.
func (ss ServiceSet) Validate() error {
	for s, v := range ss {
		if !s.Valid() {
			return Invalid("service", "err.service.unknown", string(s))
		}
		if v < 0 || v > s.MaxLevel() {
			return Invalid(s.Field(), "err.service.level", s)
		}
	}
	return nil
}

// CheckServices refuses any service in want above what the reseller may
// offer (ROLE-5: the admin decides which services a reseller has at all).
func CheckServices(allowed, want ServiceSet) error {
	if err := want.Validate(); err != nil {
		return err
	}
	for _, s := range Services() {
		if want[s] > allowed[s] {
			return Forbidden(s.Field(), "err.service.not_offered", s)
		}
	}
	return nil
}
