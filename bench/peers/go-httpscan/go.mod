module pulse-bench/go-httpscan

go 1.19
