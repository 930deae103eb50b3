#!/usr/bin/perl
#
# Write a small GeoIP2-Country-shaped MaxMind DB from a text file of
# networks (see countries.txt for the format), for portgate's unit tests.
# Needs MaxMind::DB::Writer (Debian: libmaxmind-db-writer-perl).
#
# usage: make-mmdb.pl DATA OUT.mmdb

use strict;
use warnings;

use MaxMind::DB::Writer::Tree;

my %types = (
	country			=> 'map',
	registered_country	=> 'map',
	iso_code		=> 'utf8_string',
);

# Parse <path>: a list of [network, prefix length, record], checked.
sub read_networks {
	my ($path) = @_;
	my @nets;

	open(my $in, '<', $path) or die "$path: $!\n";
	while (my $line = <$in>) {
		$line =~ s/#.*//;
		my @f = split(' ', $line);
		next unless @f;
		die "$path:$.: expected NETWORK COUNTRY [REGISTERED]\n"
		    if @f < 2 || @f > 3;
		my ($net, $cc, $reg) = @f;
		die "$path:$.: bad network \"$net\"\n"
		    unless $net =~ m{^[0-9A-Fa-f.:]+/(\d+)$};
		my $len = $1;
		for my $code (grep { defined } $cc, $reg) {
			die "$path:$.: bad country code \"$code\"\n"
			    unless $code eq '-' || $code =~ /^[A-Z]{2}$/;
		}
		my %rec;
		$rec{country} = { iso_code => $cc } if $cc ne '-';
		$rec{registered_country} = { iso_code => $reg }
		    if defined $reg && $reg ne '-';
		die "$path:$.: a record needs a country or a registered " .
		    "country\n" unless %rec;
		# IPv4 prefixes sit at ::a.b.c.d in an IPv6 tree.
		$len += 96 if $net !~ /:/;
		push(@nets, [$net, $len, \%rec]);
	}
	close($in);
	die "$path: no networks\n" unless @nets;
	return @nets;
}

die "usage: make-mmdb.pl DATA OUT.mmdb\n" unless @ARGV == 2;
my ($data, $out) = @ARGV;

my $tree = MaxMind::DB::Writer::Tree->new(
	database_type		 => 'GeoIP2-Country',
	description		 => { en => 'portgate unit test countries' },
	languages		 => ['en'],
	ip_version		 => 6,
	record_size		 => 24,
	# IPv4 networks are found through ::ffff:0:0/96 too.
	alias_ipv6_to_ipv4	 => 1,
	# The test networks are loopback and documentation prefixes.
	remove_reserved_networks => 0,
	# "none": the last insert wins, so insert wider prefixes first.
	merge_strategy		 => 'none',
	map_key_type_callback	 => sub {
		return $types{$_[0]} // die "unknown key \"$_[0]\"\n";
	},
);

for my $n (sort { $a->[1] <=> $b->[1] } read_networks($data)) {
	$tree->insert_network($n->[0], $n->[2]);
}

open(my $fh, '>:raw', $out) or die "$out: $!\n";
$tree->write_tree($fh);
close($fh) or die "$out: $!\n";
