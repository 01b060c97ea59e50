package stats

import (
	"strings"
	"testing"
)

func TestXferlog(t *testing.T) {
	tg := testTargets()
	lines := []string{
		// vsftpd / proftpd with completion status; a download and an upload.
		`Sat Mar 14 09:12:01 2026 1 192.0.2.7 4096 /html/index.html b _ o r web1 ftp 0 * c`,
		`Sat Mar 14 09:13:01 2026 3 ::ffff:192.0.2.7 100000 /html/up.zip b _ i r web1 ftp 0 * c`,
		// Day padded with two spaces; a file name with spaces; an extra
		// FTP user of web2 (web2f1 → web2); an incomplete transfer counts
		// the bytes it moved.
		`Mon Mar  2 23:59:59 2026 0 192.0.2.8 10 /html/a b  c.txt a _ o r web2f1 ftp 0 * i`,
		// wu-ftpd without the completion status.
		`Mon Mar  2 08:00:00 2026 0 192.0.2.8 7 /x.txt b _ o r web2 ftp 0 *`,
		// A deletion moves no bytes; not malformed either.
		`Mon Mar  2 08:00:00 2026 0 192.0.2.8 5000 /x.txt b _ d r web2 ftp 0 * c`,
		// The reseller's own account.
		`Mon Mar  2 08:00:00 2026 0 192.0.2.8 1 /y b _ o r res1web0 ftp 0 * c`,
		// Unknown logins: unassigned; a name that could not be shown
		// safely is lumped in as (other).
		`Mon Mar  2 08:00:00 2026 0 192.0.2.8 11 /z b _ o a anonymous ftp 0 * c`,
		`Mon Mar  2 08:00:00 2026 0 192.0.2.8 12 /z b _ o r web99f1 ftp 0 * c`,
		`Mon Mar  2 08:00:00 2026 0 192.0.2.8 13 /z b _ o r we"b1 ftp 0 * c`,
		"Mon Mar  2 08:00:00 2026 0 192.0.2.8 14 /z b _ o r web1 ftp 0 * c\r",
	}
	tally := parse(t, Xferlog{}, tg, strings.Join(lines, "\n")+"\n")
	if tally.Malformed != 0 || tally.Lines != int64(len(lines)) {
		t.Fatalf("lines %d malformed %d", tally.Lines, tally.Malformed)
	}
	want := "1 20260302 ftp 14 1\n1 20260314 ftp 104096 2\n2 20260302 ftp 17 2\n5 20260302 ftp 1 1\n"
	if got := sums(tg, tally); got != want {
		t.Errorf("sums:\n%s\nwant:\n%s", got, want)
	}
	wantU := "(other) 20260302 ftp 13 1\nanonymous 20260302 ftp 11 1\nweb99f1 20260302 ftp 12 1\n"
	if got := unassigned(tally); got != wantU {
		t.Errorf("unassigned:\n%s\nwant:\n%s", got, wantU)
	}
}

func TestXferlogMalformed(t *testing.T) {
	tg := testTargets()
	bad := []string{
		``,
		`Sat Mar 14 09:12:01 2026`,
		`Sat Mar 14 09:12:01 2026 1 192.0.2.7 4096`,
		`Sat Mar 14 09:12:01 2026 1 192.0.2.7 4096 b _ o r web1 ftp 0 * c`,            // no file name
		`Sat Foo 14 09:12:01 2026 1 192.0.2.7 4096 /f b _ o r web1 ftp 0 * c`,         // month
		`Sat Feb 30 09:12:01 2026 1 192.0.2.7 4096 /f b _ o r web1 ftp 0 * c`,         // day
		`Sat Mar 14 09:12:01 26 1 192.0.2.7 4096 /f b _ o r web1 ftp 0 * c`,           // year
		`Sat Mar 14 0912 2026 1 192.0.2.7 4096 /f b _ o r web1 ftp 0 * c`,             // time
		`Sat Mar 14 09:12:01 2026 1 192.0.2.7 4k /f b _ o r web1 ftp 0 * c`,           // bytes
		`Sat Mar 14 09:12:01 2026 1 192.0.2.7 4096 /f x _ o r web1 ftp 0 * c`,         // type
		`Sat Mar 14 09:12:01 2026 1 192.0.2.7 4096 /f b _ x r web1 ftp 0 * c`,         // direction
		`Sat Mar 14 09:12:01 2026 1 192.0.2.7 4096 /f b _ o q web1 ftp 0 * c`,         // mode
		`Sat Mar 14 09:12:01 2026 1 192.0.2.7 4096 /f b ? o r web1 ftp 0 * c`,         // special action
		`example.com:443 192.0.2.1 - - [14/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1"`, // another format
	}
	for i, l := range bad {
		if one := parse(t, Xferlog{}, tg, l+"\n"); one.Malformed != 1 || len(one.Cells()) != 0 {
			t.Errorf("bad line %d %q: malformed %d", i, l, one.Malformed)
		}
	}
}

func TestFTPUser(t *testing.T) {
	r := NewResolver(testTargets())
	for login, want := range map[string]int64{"web1": 1, "web1f3": 1, "web2f12": 2, "res1web0f1": 5,
		"web1f": -1, "web1x2": -1, "f1": -1, "web3": -1, "": -1, "WEB1": -1} {
		got := int64(-1)
		if u := r.FTPUser([]byte(login)); u >= 0 {
			got = r.t.Users[u]
		}
		if got != want {
			t.Errorf("FTPUser(%q) = %d, want %d", login, got, want)
		}
	}
}
