module github.com/vexxhost/atmosphere-go

go 1.26
