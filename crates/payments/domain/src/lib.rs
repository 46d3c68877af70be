//! The payments module's pure core: the pricing engine (quotes in integer micro-units) and the
//! payment intent's state machine. No I/O, no async, no clock.
