module pageledger/callers

go 1.19
