#!/usr/bin/perl
# Kontor standard CGI script: a text hit counter.
# Each request adds one to the number in ../files/counter.txt (in your
# home, outside the web root) and prints it as plain text, e.g. for
# <!--#include virtual="/cgi-bin/counter.cgi" --> in an .shtml page.
# The file is locked while it is updated, so parallel requests count
# correctly. Kontor never overwrites a file you changed.
use strict;
use warnings;
use Fcntl qw(:flock O_RDWR O_CREAT);
use FindBin ();

my $file = "$FindBin::RealBin/../files/counter.txt";
my $count = 0;

if (sysopen(my $fh, $file, O_RDWR | O_CREAT, 0600)) {
    if (flock($fh, LOCK_EX)) {
        my $line = <$fh>;
        $count = ($line && $line =~ /^(\d{1,15})/) ? $1 : 0;
        $count++;
        seek($fh, 0, 0);
        truncate($fh, 0);
        print {$fh} "$count\n";
    }
    close($fh);
}

print "Content-Type: text/plain; charset=utf-8\r\n\r\n";
print "$count\n";
