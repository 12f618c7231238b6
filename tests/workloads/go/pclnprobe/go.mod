module pclnprobe

go 1.19
