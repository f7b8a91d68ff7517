using Yac.Client;
using Yac.Client.Session;

namespace Yac.UnitTests.Client;

public sealed class ChatSequencerTests
{
    private static readonly Guid s_chat = Guid.NewGuid();
    private static readonly Guid s_user = Guid.NewGuid();

    private static YacMessageEvent Message(long seq, long? rev = null, Guid? chatId = null) =>
        new(new YacMessage(Guid.NewGuid(), chatId ?? s_chat, seq, s_user, $"m{seq}", DateTimeOffset.UnixEpoch, $"c{seq}"), rev);

    private static long[] Seqs(IEnumerable<YacChatChangeEvent> events) => [.. events.Cast<YacMessageEvent>().Select(e => e.Message.Seq)];

    [Fact]
    public void MessagesInOrderAreDeliveredAndReplaysOfThemAreDropped()
    {
        var sequencer = new ChatSequencer();
        sequencer.Track(s_chat, lastSeq: 3, lastRev: null);

        Assert.Equal([4L], Seqs(sequencer.Offer(Message(4)).Deliver));
        Assert.Equal([5L], Seqs(sequencer.Offer(Message(5)).Deliver));
        // A resume after a reconnect replays what was already delivered.
        Assert.Empty(sequencer.Offer(Message(3)).Deliver);
        Assert.Empty(sequencer.Offer(Message(5)).Deliver);
        Assert.Equal(2, sequencer.Duplicates);
        Assert.Equal(new YacChatPosition(5), sequencer.Positions[s_chat]);
    }

    [Fact]
    public void ALiveMessageThatOvertookTheReplayIsHeldUntilTheGapIsReadOverRest()
    {
        var sequencer = new ChatSequencer();
        sequencer.Track(s_chat, 5, null);

        var overtaking = sequencer.Offer(Message(9));
        Assert.Empty(overtaking.Deliver);
        Assert.Equal(new FetchRequest(s_chat, ByRev: false, After: 5, Before: 9), overtaking.Fetch);

        // Another live one meanwhile: held too, and no second fetch while one is on its way.
        var next = sequencer.Offer(Message(10));
        Assert.Empty(next.Deliver);
        Assert.Null(next.Fetch);

        Assert.Equal([6L, 7L, 8L, 9L, 10L], Seqs(sequencer.OfferFill(s_chat, [Message(6), Message(7), Message(8)])));
        Assert.Null(sequencer.CompleteFill(s_chat, succeeded: true));
        Assert.Equal(10, sequencer.Positions[s_chat].Seq);
    }

    [Fact]
    public void AFailedFillIsAskedForAgainAndAPartialFillFetchesTheRest()
    {
        var sequencer = new ChatSequencer();
        sequencer.Track(s_chat, 0, null);
        Assert.NotNull(sequencer.Offer(Message(5)).Fetch);

        Assert.Equal(new FetchRequest(s_chat, false, 0, 5), sequencer.CompleteFill(s_chat, succeeded: false));
        Assert.Equal([1L, 2L], Seqs(sequencer.OfferFill(s_chat, [Message(1), Message(2)])));
        Assert.Equal(new FetchRequest(s_chat, false, 2, 5), sequencer.CompleteFill(s_chat, succeeded: true));
    }

    [Fact]
    public void OnceFramesCarryRevsTheyOrderEveryChangeAndGapsAreReadByRev()
    {
        var sequencer = new ChatSequencer();
        sequencer.Track(s_chat, lastSeq: 2, lastRev: 4);
        var joined = new YacMemberJoinedEvent(s_chat, Guid.NewGuid(), Rev: 5);

        Assert.Single(sequencer.Offer(joined).Deliver);
        Assert.Empty(sequencer.Offer(joined).Deliver);
        Assert.Equal([3L], Seqs(sequencer.Offer(Message(3, rev: 6)).Deliver));

        var gap = sequencer.Offer(Message(4, rev: 8));
        Assert.Empty(gap.Deliver);
        Assert.Equal(new FetchRequest(s_chat, ByRev: true, After: 6, Before: 8), gap.Fetch);

        var edit = new YacMessageUpdatedEvent(s_chat, 7, Message(3).Message);
        var filled = sequencer.OfferFill(s_chat, [edit]);
        Assert.Equal(2, filled.Count);
        Assert.Same(edit, filled[0]);
        Assert.Equal(new YacChatPosition(4, 8), sequencer.Positions[s_chat]);
    }

    [Fact]
    public void AMessageAlreadyDeliveredBySeqIsADuplicateEvenWhenItNowCarriesARev()
    {
        // The server was upgraded between two sockets: the replay of "chats" carries revs.
        var sequencer = new ChatSequencer();
        sequencer.Track(s_chat, 7, null);

        Assert.Empty(sequencer.Offer(Message(7, rev: 20)).Deliver);
        Assert.Equal([8L], Seqs(sequencer.Offer(Message(8, rev: 21)).Deliver));
        Assert.Equal(new YacChatPosition(8, 21), sequencer.Positions[s_chat]);
    }

    [Fact]
    public void AChatWithoutAPositionStartsAtItsFirstFrameAndIsNotResumedBeforeIt()
    {
        var sequencer = new ChatSequencer();
        var newChat = Guid.NewGuid();
        Assert.Single(sequencer.Offer(new YacMemberJoinedEvent(newChat, s_user, Rev: null)).Deliver);
        Assert.False(sequencer.Positions.ContainsKey(newChat));

        Assert.Equal([12L], Seqs(sequencer.Offer(Message(12, chatId: newChat)).Deliver));
        Assert.Equal(12, sequencer.Positions[newChat].Seq);
    }

    [Fact]
    public void ResumedAheadOfThePositionAsksForTheRestAndAnUntrackedChatIsForgotten()
    {
        var sequencer = new ChatSequencer();
        sequencer.Track(s_chat, 3, null);

        Assert.Null(sequencer.CatchUp(s_chat, seq: 3));
        Assert.Equal(new FetchRequest(s_chat, false, 3, null), sequencer.CatchUp(s_chat, seq: 6));

        sequencer.Untrack(s_chat);
        Assert.False(sequencer.IsTracked(s_chat));
        Assert.Empty(sequencer.OfferFill(s_chat, [Message(4)]));
        Assert.Null(sequencer.CompleteFill(s_chat, true));
    }

    [Fact]
    public void HeldFramesBeyondTheLimitAreReadAgainByAFetchToTheEnd()
    {
        var sequencer = new ChatSequencer(maxHeldPerChat: 2);
        sequencer.Track(s_chat, 0, null);
        sequencer.Offer(Message(3));
        sequencer.Offer(Message(4));
        sequencer.Offer(Message(5)); // not kept

        Assert.Equal([1L, 2L, 3L, 4L], Seqs(sequencer.OfferFill(s_chat, [Message(1), Message(2)])));
        Assert.Equal(new FetchRequest(s_chat, false, 4, null), sequencer.CompleteFill(s_chat, true));
        Assert.Equal([5L], Seqs(sequencer.OfferFill(s_chat, [Message(5)])));
        Assert.Null(sequencer.CompleteFill(s_chat, true));
    }

    [Fact]
    public void ChatsAreIndependent()
    {
        var sequencer = new ChatSequencer();
        var other = Guid.NewGuid();
        sequencer.Track(s_chat, 1, null);
        sequencer.Track(other, 1, null);

        Assert.NotNull(sequencer.Offer(Message(5)).Fetch);
        Assert.Equal([2L], Seqs(sequencer.Offer(Message(2, chatId: other)).Deliver));
    }
}
