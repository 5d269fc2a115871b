# embed.awk - write a text file as one C string: const char NAME[] = "...";
# Usage: awk -v name=NAME -f embed.awk FILE > FILE.c
# Every byte outside printable ASCII, and '"', '\\' and '?' (no trigraphs),
# is written as an octal escape, so the string is the file byte for byte.
BEGIN {
	for (i = 0; i < 256; i++)
		ord[sprintf("%c", i)] = i
	print "/* generated from a helper script by embed.awk; do not edit */"
	printf "const char %s[] =\n", name
}
{
	line = $0 "\n"
	out = ""
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		o = ord[c]
		if (o >= 32 && o < 127 && c != "\"" && c != "\\" && c != "?")
			out = out c
		else
			out = out sprintf("\\%03o", o)
	}
	printf "\t\"%s\"\n", out
}
END { print "\t;" }
