namespace Yac.ChatService.Events;

/// <summary>
/// Hands message events to the <see cref="EventPublisher"/> in seq order per chat.
/// <para>
/// Seqs are assigned in commit order (a row lock on the chat), but the requests that committed
/// seq 5 and seq 6 race each other to the publish queue afterwards. A send therefore reserves
/// its seq while it still holds the row lock; seq N+1 can only be reserved after the transaction
/// of N ended, so reservations arrive in seq order. A committed event is queued only once every
/// earlier reservation of its chat is queued or cancelled (rolled back or failed). Nothing ever
/// waits on another process: a seq this process did not reserve is never waited for.
/// </para>
/// </summary>
public sealed class MessageEventSequencer(EventPublisher publisher)
{
    private readonly Dictionary<Guid, Queue<Reservation>> _inFlight = [];

    /// <summary>Called inside the transaction, right after the seq was assigned.</summary>
    public Reservation Reserve(Guid chatId, long seq)
    {
        var reservation = new Reservation(chatId, seq);
        lock (_inFlight)
        {
            if (!_inFlight.TryGetValue(chatId, out var queue))
            {
                queue = new Queue<Reservation>();
                _inFlight.Add(chatId, queue);
            }

            queue.Enqueue(reservation);
        }

        return reservation;
    }

    /// <summary>The transaction committed: publish the event once every earlier seq of the chat is out.</summary>
    public void Complete(Reservation reservation, OutgoingEvent outgoing) => Settle(reservation, outgoing);

    /// <summary>The transaction did not commit (or its outcome is unknown): nothing to publish for this seq.</summary>
    public void Cancel(Reservation reservation) => Settle(reservation, null);

    private void Settle(Reservation reservation, OutgoingEvent? outgoing)
    {
        lock (_inFlight)
        {
            if (reservation.Settled)
            {
                return;
            }

            reservation.Settled = true;
            reservation.Event = outgoing;
            var queue = _inFlight[reservation.ChatId];
            while (queue.TryPeek(out var head) && head.Settled)
            {
                queue.Dequeue();
                if (head.Event is not null)
                {
                    // Never blocks: a full publish queue drops (and logs) instead.
                    publisher.TryQueue(head.Event);
                }
            }

            if (queue.Count == 0)
            {
                _inFlight.Remove(reservation.ChatId);
            }
        }
    }

    public sealed class Reservation(Guid chatId, long seq)
    {
        public Guid ChatId { get; } = chatId;

        public long Seq { get; } = seq;

        internal bool Settled { get; set; }

        internal OutgoingEvent? Event { get; set; }
    }
}
