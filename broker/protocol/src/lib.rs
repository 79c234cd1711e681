//! Remoting protocol codec.
