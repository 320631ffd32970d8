module pulse-bench/go-blackbox-driver

go 1.19
