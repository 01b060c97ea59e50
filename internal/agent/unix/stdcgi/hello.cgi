#!/usr/bin/perl
# Kontor standard CGI script: shows that CGI works for this site.
# It prints a few facts of the request, HTML-escaped; no input is
# executed or stored. Delete or change it as you like: Kontor never
# overwrites a file you changed.
use strict;
use warnings;

sub esc {
    my $s = defined $_[0] ? $_[0] : '';
    $s =~ s/&/&amp;/g;
    $s =~ s/</&lt;/g;
    $s =~ s/>/&gt;/g;
    $s =~ s/"/&quot;/g;
    $s =~ s/'/&#39;/g;
    return $s;
}

my @rows = (
    ['Server name',   $ENV{SERVER_NAME}],
    ['Your address',  $ENV{REMOTE_ADDR}],
    ['Method',        $ENV{REQUEST_METHOD}],
    ['Query string',  $ENV{QUERY_STRING}],
    ['Time (UTC)',    scalar gmtime()],
);

print "Content-Type: text/html; charset=utf-8\r\n\r\n";
print "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Hello from CGI</title></head><body>\n";
print "<h1>Hello from CGI</h1>\n<p>Perl CGI scripts run on this site.</p>\n<table>\n";
for my $r (@rows) {
    print '<tr><th>', esc($r->[0]), '</th><td>', esc($r->[1]), "</td></tr>\n";
}
print "</table>\n</body></html>\n";
