module pulse-bench/go-tcpscan

go 1.19
