module gooffsets

go 1.19
