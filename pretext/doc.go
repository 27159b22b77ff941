// Package pretext holds the self-supervised objectives vidrep pretrains with:
// transformation prediction (clip order, odd-one-out, VCOP, rotation, speed,
// arrow of time, camera pan, camera motion, motion statistics), instance discrimination
// (SimCLR/CVRL, MoCo, BYOL) and masked modelling (VideoMAE).
//
// A Method makes its views and integer targets from one video (its
// Sampler, a loader.Sampler) and builds its loss from a backbone's features
// (Loss, with train.LossFn's signature). The backbone's variables live under
// the scope "backbone" and every pretext-only variable (heads, momentum
// copies, queues, decoders) under "pretext/<method>", so a saved backbone
// (the "backbone" scope alone) carries no pretext head. Samplers never look
// at the label they are given; pretraining hides labels (HideLabels) and
// refuses any that slip through (Unlabeled).
//
// The methods (New(name, Options); Names lists them):
//
//	name         views            targets                          loss
//	order        3 clips          1: in order (b,c,d or d,c,b)      CE, 2 classes (Shuffle & Learn, on clips)
//	                              or not (b,a,d / b,e,d, ...)
//	odd-one-out  N clips (4)      1: which clip has shuffled frames CE, N classes (O3N)
//	vcop         K clips (3)      1: permutation index among K!     CE over pairwise-concatenated clip
//	                                                                features (Xu et al. 2019)
//	rotation     1 clip           1: quarter turns 0..3 of frames   CE, 4 classes (3DRotNet)
//	speed        1 clip           1: frame stride 1/2/4/8           CE, 4 classes (SpeedNet, Pace)
//	arrow        1 clip           1: forward (0) or reversed (1)    CE, 2 classes (arrow of time)
//	pan          1 clip           1: direction of a synthetic       CE, 8 classes (motion statistics,
//	                              camera pan, 0..7                  Wang et al. 2019, without flow)
//	camera       1 clip           1: pan direction 0..7, zoom in    CE, 12 classes (ego-motion,
//	                              or out, roll either way           Agrawal et al. 2015)
//	flowstats    1 clip           5, from the clip's affine flow:   mean CE of the five (motion
//	                              direction 0..7; grows, turns,     statistics, Wang et al. 2019,
//	                              reverses, veers (0/1 each)        discretised; MotionTargets)
//	camflow      1 clip moved by  6: camera's motion, then          mean of camera's CE and
//	             a camera         flowstats' five of the scene      flowstats' loss
//	simclr       2 clips          none                              InfoNCE over the 2B clips (CVRL)
//	moco         2 clips          none                              InfoNCE against an EMA key encoder
//	                                                                and a queue of past keys (MoCo v2)
//	byol         2 clips          none                              normalised MSE to an EMA target
//	                                                                network's projection (BYOL)
//	videomae     1 clip           visible token indices (tubes)     MSE of per-patch normalised pixels,
//	                                                                masked patches only (VideoMAE)
//
// Clips of one tuple (order, odd-one-out, vcop) share one augmentation, so
// only time tells them apart; the two clips of an instance-discrimination
// pair are taken at independent random times and augmented independently.
// Methods combine with weights: New("vcop:1+rotation:0.5", ...) makes an
// Example holding both methods' views and targets and sums the weighted
// losses.
package pretext
