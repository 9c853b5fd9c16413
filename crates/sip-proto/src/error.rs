//! Errors, typed per concern (DESIGN.md house style rule 4).

use sip_msg::ParseError;

use crate::ids::TransactionKey;
use crate::transaction::TransactionState;

/// What the transaction layer or a stateless helper refused to do.
///
/// Errors about a received message carry the [`ParseError`] whose status and
/// reason a server answers with; errors about what the TU asked for name the
/// misuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// A header the transaction layer needs (Via, CSeq, From, To, Call-ID) is
    /// missing or malformed.
    #[error("{0}")]
    Message(#[from] ParseError),
    /// A response was given where a request was expected.
    #[error("not a request")]
    NotARequest,
    /// A request was given where a response was expected.
    #[error("not a response")]
    NotAResponse,
    /// ACK never starts a transaction: the ACK for a non-2xx is the client
    /// transaction's own business and the ACK for a 2xx is sent by the TU
    /// outside any transaction (RFC 3261 §17.1.1.3, §13.2.2.4).
    #[error("ACK is not sent through a client transaction")]
    AckIsNotATransaction,
    /// A request from the TU whose top Via has no branch starting with the
    /// magic cookie `z9hG4bK` (RFC 3261 §8.1.1.7 makes it mandatory).
    #[error("top Via has no RFC 3261 branch")]
    MissingBranch,
    /// A client transaction with this branch and method exists already.
    #[error("a client transaction with this branch and method exists: {0}")]
    DuplicateTransaction(TransactionKey),
    /// The key names no live transaction (it terminated, or never existed).
    #[error("no such transaction: {0}")]
    UnknownTransaction(TransactionKey),
    /// A response was given for a client transaction.
    #[error("{0} is a client transaction")]
    NotAServerTransaction(TransactionKey),
    /// A client-transaction command (abandon) named a server transaction.
    #[error("{0} is a server transaction")]
    NotAClientTransaction(TransactionKey),
    /// The transaction's state does not accept this response (a second final
    /// response, a non-2xx after a 2xx, ...); nothing was sent.
    #[error("{key} in state {state:?} does not accept a {status} response")]
    ResponseRefused {
        /// The transaction.
        key: TransactionKey,
        /// Its state.
        state: TransactionState,
        /// The status code refused.
        status: u16,
    },
    /// The live-transaction cap is reached (DESIGN.md rule 11).
    #[error("transaction limit of {0} reached")]
    TooManyTransactions(usize),
    /// A response other than 100 needs a To tag and the request had none, but
    /// none was supplied (RFC 3261 §8.2.6.2).
    #[error("a To tag is required for this response")]
    ToTagRequired,
    /// CANCEL applies to INVITE only (RFC 3261 §9.1).
    #[error("only INVITE requests are cancelled")]
    CancelNonInvite,
    /// A message we built did not parse back (a header value with a line
    /// break, say).
    #[error("built message is malformed: {0}")]
    Build(ParseError),
}

/// What the dialog functions (RFC 3261 §12) refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialogError {
    /// A header the dialog needs is missing or malformed.
    #[error("{0}")]
    Message(#[from] ParseError),
    /// The message that should create the dialog lacks a tag: the To tag of the
    /// response (UAS side: our own; UAC side: needed for an early dialog), or
    /// the From tag of a request we sent.
    #[error("missing {0} tag")]
    MissingTag(&'static str),
    /// No Contact in the message that sets the remote target (§12.1.1,
    /// §12.1.2).
    #[error("missing Contact")]
    MissingContact,
    /// Contact `*` or a non-URI contact cannot be a remote target.
    #[error("Contact is not a usable remote target")]
    BadContact,
    /// The response cannot create a dialog (not 1xx-with-tag or 2xx).
    #[error("a {0} response does not create a dialog")]
    NotDialogCreating(u16),
    /// A request within the dialog has a CSeq lower than the last one (§12.2.2):
    /// answer 500.
    #[error("CSeq {got} is lower than the remote sequence number {remote}")]
    CSeqOutOfOrder {
        /// The request's CSeq number.
        got: u32,
        /// The dialog's remote sequence number.
        remote: u32,
    },
    /// The response belongs to another dialog.
    #[error("the response belongs to another dialog")]
    WrongDialog,
}

impl DialogError {
    /// The status a UAS answers the offending request with: 500 for an
    /// out-of-order CSeq (§12.2.2), the parse error's own status for a bad
    /// message, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            DialogError::CSeqOutOfOrder { .. } => 500,
            DialogError::Message(e) => e.status(),
            _ => 400,
        }
    }
}
