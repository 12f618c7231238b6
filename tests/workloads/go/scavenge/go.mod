module pageledger/scavenge

go 1.19
