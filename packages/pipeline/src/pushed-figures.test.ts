import { describe, expect, it } from 'vitest';
import { observationTopic, parseChannelMessage } from './pushed-figures';

describe('parseChannelMessage (notification socket messages)', () => {
  it("an observation event: the queue from the topic, the last data item's metrics", () => {
    const msg = {
      topicName: observationTopic('q-1'),
      eventBody: {
        group: { mediaType: 'voice' },
        data: [
          { metrics: [{ metric: 'oOnQueueUsers', qualifier: 'IDLE', stats: { count: 1 } }] },
          { metrics: [{ metric: 'oOnQueueUsers', qualifier: 'IDLE', stats: { count: 4 } }] },
        ],
      },
    };
    expect(parseChannelMessage(JSON.stringify(msg))).toEqual({
      kind: 'observation',
      queueId: 'q-1',
      group: { group: { mediaType: 'voice', queueId: 'q-1' }, data: [{ metric: 'oOnQueueUsers', qualifier: 'IDLE', stats: { count: 4 } }] },
    });
  });

  it('an event without data is the queue with no figures', () => {
    expect(parseChannelMessage(JSON.stringify({ topicName: observationTopic('q-2'), eventBody: {} }))).toEqual({
      kind: 'observation',
      queueId: 'q-2',
      group: { group: { queueId: 'q-2' }, data: [] },
    });
  });

  it('socket closing, heartbeats, other topics and non-JSON', () => {
    expect(parseChannelMessage(JSON.stringify({ topicName: 'v2.system.socket_closing' }))).toEqual({ kind: 'closing' });
    expect(parseChannelMessage(JSON.stringify({ topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } }))).toEqual({ kind: 'other' });
    expect(parseChannelMessage(JSON.stringify({ topicName: 'v2.users.u-1.presence' }))).toEqual({ kind: 'other' });
    expect(parseChannelMessage('not json')).toEqual({ kind: 'other' });
  });
});
