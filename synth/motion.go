package synth

import "math"

// ClassNames lists the motion classes in class-index order; a benchmark with
// Config.Classes = N uses the first N.
var ClassNames = []string{
	"TranslateRight",         // drifts right (direction within ±15 degrees)
	"TranslateLeft",          // drifts left
	"TranslateUp",            // drifts up
	"TranslateDown",          // drifts down
	"RotateClockwise",        // spins clockwise about its centre
	"RotateCounterclockwise", // spins counter-clockwise about its centre
	"Grow",                   // scales up (sawtooth over the size range)
	"Shrink",                 // scales down (sawtooth over the size range)
	"Oscillate",              // swings back and forth along a random axis
	"Orbit",                  // moves along a circle, either way round
	"StartStop",              // drifts in a random direction, stopping and starting
	"Wander",                 // a smooth random walk, turning all the time
}

// Nominal motion magnitudes at speed multiplier 1, in frame sides (or
// radians, or natural-log size units) per frame.
const (
	translateSpeed = 0.03         // frame sides per frame
	spinSpeed      = 0.15         // radians per frame
	growthRate     = 0.016        // log-size per frame
	sizeMin        = 0.22         // smallest object size (diameter, frame sides)
	sizeMax        = 0.6          // largest object size
	dirJitter      = math.Pi / 12 // translation direction jitter (±15 degrees)
)

// objState is where the main object is at one frame: position on the unit
// torus, angle and size.
type objState struct {
	x, y, theta, size float64
}

// initialState draws the class-independent state at frame 0: uniform position
// on the torus, uniform angle, log-uniform size. Every motion starts here, so
// frame 0 is the same whatever the class, and each motion keeps these
// marginals at every later frame.
func initialState(r *rng) objState {
	return objState{x: r.float(), y: r.float(), theta: r.uniform(0, 2*math.Pi), size: r.logUniform(sizeMin, sizeMax)}
}

// trajectory returns the main object's state at each of frames frames for a
// class, starting at s0 and scaled by the speed multiplier speed. All draws
// come from r, a stream of their own, so that appearance does not depend on
// the class. With friction > 0 the motion's clock slows down over the clip:
// the step to frame t advances it by e^(-friction*(t-mid)), mid the middle
// frame, so the motion is faster early and slower late (the step across the
// middle is e^(-friction/2) times the nominal one), and a clip played
// backwards speeds up, as no clip does forwards. With friction 0 every step
// advances it by exactly 1.
func trajectory(class int, s0 objState, speed float64, frames int, friction float64, r *rng) []objState {
	out := make([]objState, frames)
	step := stepper(class, speed, r)
	mid := float64(frames-1) / 2
	s, clock := s0, 0.0
	for t := range out {
		if t > 0 {
			tick := math.Exp(-friction * (float64(t) - mid))
			clock += tick
			s = step(clock, tick, s0, s)
		}
		out[t] = s
	}
	return out
}

// stepFunc moves the state by one frame: clock is the motion's time at the
// new frame (the frame index without friction) and tick how far it advanced.
type stepFunc func(clock, tick float64, s0, s objState) objState

// stepper returns the function that moves the state from one frame to the next.
func stepper(class int, speed float64, r *rng) stepFunc {
	switch ClassNames[class] {
	case "TranslateRight", "TranslateLeft", "TranslateUp", "TranslateDown":
		dir := [4]float64{0, math.Pi, -math.Pi / 2, math.Pi / 2}[class] + r.uniform(-dirJitter, dirJitter)
		return drift(dir, translateSpeed*speed)
	case "RotateClockwise", "RotateCounterclockwise":
		// Image y points down, so a growing angle turns clockwise on screen.
		w := spinSpeed * speed
		if ClassNames[class] == "RotateCounterclockwise" {
			w = -w
		}
		return func(_, tick float64, _, s objState) objState { s.theta += w * tick; return s }
	case "Grow", "Shrink":
		g := growthRate * speed
		if ClassNames[class] == "Shrink" {
			g = -g
		}
		return func(_, tick float64, _, s objState) objState { s.size = sawtooth(s.size, g*tick); return s }
	case "Oscillate":
		return oscillate(speed, r)
	case "Orbit":
		return orbit(speed, r)
	case "StartStop":
		return startStop(speed, r)
	default: // Wander
		return wander(speed, r)
	}
}

// drift moves the state by a constant velocity.
func drift(dir, v float64) stepFunc {
	dx, dy := v*math.Cos(dir), v*math.Sin(dir)
	return func(_, tick float64, _, s objState) objState { return moved(s, dx*tick, dy*tick) }
}

// moved returns s shifted by (dx, dy), wrapped onto the unit torus.
func moved(s objState, dx, dy float64) objState {
	s.x = wrap01(s.x + dx)
	s.y = wrap01(s.y + dy)
	return s
}

// oscillate swings the object along a random axis: x(t) = x0 + A(sin(φ+ωt) - sin φ).
func oscillate(speed float64, r *rng) stepFunc {
	axis := r.uniform(0, math.Pi)
	amp := r.uniform(0.08, 0.14)
	w := 2 * math.Pi / r.uniform(9, 14) * speed
	phase := r.uniform(0, 2*math.Pi)
	return func(clock, _ float64, s0, s objState) objState {
		d := amp * (math.Sin(phase+w*clock) - math.Sin(phase))
		s.x, s.y = wrap01(s0.x+d*math.Cos(axis)), wrap01(s0.y+d*math.Sin(axis))
		return s
	}
}

// orbit moves the object along a circle of random radius, either way round.
func orbit(speed float64, r *rng) stepFunc {
	rad := r.uniform(0.08, 0.14)
	w := r.sign() * 2 * math.Pi / r.uniform(14, 22) * speed
	phase := r.uniform(0, 2*math.Pi)
	return func(clock, _ float64, s0, s objState) objState {
		a := phase + w*clock
		s.x = wrap01(s0.x + rad*(math.Cos(a)-math.Cos(phase)))
		s.y = wrap01(s0.y + rad*(math.Sin(a)-math.Sin(phase)))
		return s
	}
}

// startStop drifts in a random direction in bursts: moving for half of each
// period, still for the other half.
func startStop(speed float64, r *rng) stepFunc {
	dir := r.uniform(0, 2*math.Pi)
	v := 1.6 * translateSpeed * speed
	period := 4 + r.intn(5)
	offset := r.intn(period)
	return func(clock, tick float64, _, s objState) objState {
		// the moving part of the clock's span [clock, clock+tick] (without
		// friction: 1 when frame clock is in a moving half-period, else 0)
		on := movingTime(clock+tick+float64(offset), period) - movingTime(clock+float64(offset), period)
		if on == 0 {
			return s
		}
		return moved(s, v*on*math.Cos(dir), v*on*math.Sin(dir))
	}
}

// movingTime is how much of the clock span [0, c] falls in the moving first
// halves (period/2 frames) of startStop's periods.
func movingTime(c float64, period int) float64 {
	p, half := float64(period), float64(period/2)
	return math.Floor(c/p)*half + min(c-p*math.Floor(c/p), half)
}

// wander is a smooth random walk: constant speed, the heading turning by a
// random amount every frame.
func wander(speed float64, r *rng) stepFunc {
	dir := r.uniform(0, 2*math.Pi)
	v := translateSpeed * speed
	return func(_, tick float64, _, s objState) objState {
		dir += 0.6 * r.norm()
		return moved(s, v*tick*math.Cos(dir), v*tick*math.Sin(dir))
	}
}

// sawtooth multiplies size by e^g, wrapping the log-size around
// [ln sizeMin, ln sizeMax), which keeps a log-uniform size log-uniform.
func sawtooth(size, g float64) float64 {
	lo, hi := math.Log(sizeMin), math.Log(sizeMax)
	l := math.Log(size) + g - lo
	l -= (hi - lo) * math.Floor(l/(hi-lo))
	return math.Exp(lo + l)
}

// wrap01 wraps x onto [0, 1).
func wrap01(x float64) float64 {
	x -= math.Floor(x)
	if x >= 1 {
		x = 0
	}
	return x
}
