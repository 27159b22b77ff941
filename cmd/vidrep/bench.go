package main

// BenchCmd groups "vidrep bench data|train|infer|pretrain".
type BenchCmd struct {
	Data     BenchDataCmd     `cmd:"" help:"Decoding and cache-read speed, peak RSS."`
	Train    BenchTrainCmd    `cmd:"" help:"Training step speed on synthetic tensors."`
	Infer    BenchInferCmd    `cmd:"" help:"Inference speed on synthetic tensors."`
	Pretrain BenchPretrainCmd `cmd:"" help:"A pretext method's pretraining step on synthetic videos."`
}
