//! The decider shape and a given/when/then harness for specifying one.

/// An aggregate as a pair of pure functions over an explicit lifecycle state.
pub trait Decider {
    type Command;
    type Event;
    /// A sum type naming every lifecycle stage; `initial` is the stage before any event.
    type State;
    type Error;

    fn initial() -> Self::State;
    fn decide(
        command: &Self::Command,
        state: &Self::State,
    ) -> Result<Vec<Self::Event>, Self::Error>;
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;

    /// The state after `events`.
    fn fold<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self::State
    where
        Self::Event: 'a,
    {
        events.into_iter().fold(Self::initial(), Self::evolve)
    }
}

/// Given these past events, when this command, then these events or this error:
///
/// ```text
/// Given::<Counter>::events(vec![Incremented]).when(&Increment).then(vec![Incremented]);
/// ```
#[derive(Debug)]
pub struct Given<D: Decider> {
    state: D::State,
}

impl<D: Decider> Given<D> {
    /// No history.
    pub fn nothing() -> Self {
        Self {
            state: D::initial(),
        }
    }

    /// This history.
    pub fn events(events: Vec<D::Event>) -> Self {
        Self {
            state: D::fold(&events),
        }
    }

    /// Decides `command` against the state so far.
    pub fn when(self, command: &D::Command) -> When<D> {
        When {
            result: D::decide(command, &self.state),
        }
    }
}

/// The outcome of [`Given::when`], to assert on.
#[derive(Debug)]
pub struct When<D: Decider> {
    result: Result<Vec<D::Event>, D::Error>,
}

impl<D: Decider> When<D>
where
    D::Event: PartialEq + std::fmt::Debug,
    D::Error: PartialEq + std::fmt::Debug,
{
    /// Asserts that exactly these events were decided.
    #[track_caller]
    pub fn then(self, expected: Vec<D::Event>) {
        assert_eq!(self.result, Ok(expected));
    }

    /// Asserts that the command was refused with this error.
    #[track_caller]
    pub fn then_error(self, expected: D::Error) {
        assert_eq!(self.result, Err(expected));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A turnstile: the smallest decider with two stages and a rule.
    struct Turnstile;

    #[derive(Debug, PartialEq)]
    enum Command {
        Open { capacity: u32 },
        Pass,
    }

    #[derive(Debug, PartialEq)]
    enum Event {
        Opened { capacity: u32 },
        Passed,
    }

    enum State {
        Closed,
        Open { left: u32 },
    }

    #[derive(Debug, PartialEq)]
    enum Error {
        AlreadyOpen,
        NotOpen,
        Full,
    }

    impl Decider for Turnstile {
        type Command = Command;
        type Event = Event;
        type State = State;
        type Error = Error;

        fn initial() -> State {
            State::Closed
        }

        fn decide(command: &Command, state: &State) -> Result<Vec<Event>, Error> {
            match (command, state) {
                (Command::Open { capacity }, State::Closed) => Ok(vec![Event::Opened {
                    capacity: *capacity,
                }]),
                (Command::Open { .. }, State::Open { .. }) => Err(Error::AlreadyOpen),
                (Command::Pass, State::Closed) => Err(Error::NotOpen),
                (Command::Pass, State::Open { left: 0 }) => Err(Error::Full),
                (Command::Pass, State::Open { .. }) => Ok(vec![Event::Passed]),
            }
        }

        fn evolve(state: State, event: &Event) -> State {
            match (state, event) {
                (_, Event::Opened { capacity }) => State::Open { left: *capacity },
                (State::Open { left }, Event::Passed) => State::Open {
                    left: left.saturating_sub(1),
                },
                (State::Closed, Event::Passed) => State::Closed,
            }
        }
    }

    #[test]
    fn given_when_then_drives_a_decider() {
        Given::<Turnstile>::nothing()
            .when(&Command::Open { capacity: 1 })
            .then(vec![Event::Opened { capacity: 1 }]);
        Given::<Turnstile>::nothing()
            .when(&Command::Pass)
            .then_error(Error::NotOpen);
        Given::<Turnstile>::events(vec![Event::Opened { capacity: 1 }])
            .when(&Command::Pass)
            .then(vec![Event::Passed]);
        Given::<Turnstile>::events(vec![Event::Opened { capacity: 1 }, Event::Passed])
            .when(&Command::Pass)
            .then_error(Error::Full);
        Given::<Turnstile>::events(vec![Event::Opened { capacity: 1 }])
            .when(&Command::Open { capacity: 2 })
            .then_error(Error::AlreadyOpen);
    }
}
