import { useState } from 'react';
import { Anchor, Button, Code, List, Modal, Stack, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, unwrap } from '../../api/client.js';
import type { HistoryEntry } from '../../api/views.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { when } from '../../components/format.js';

/**
 * Undo one merge. The preview shows what the history says the merge joined and why; after the split the API
 * answers with the profiles the records were re-resolved into.
 */
export function Unmerge({ profileId, merge }: { profileId: string; merge: HistoryEntry }) {
  const [open, setOpen] = useState(false);
  const queryClient = useQueryClient();
  const unmerge = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/v1/profiles/{id}/unmerge', {
          params: { path: { id: profileId } },
          body: { mergeId: merge.mergeId },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['profiles'] }),
  });
  return (
    <>
      {/* Stays mounted once the merge is undone (the history refetches), so the result stays on screen. */}
      {!merge.undoneAt && (
        <Button size="xs" variant="default" onClick={() => setOpen(true)}>
          Unmerge #{merge.mergeId}
        </Button>
      )}
      <Modal opened={open} onClose={() => setOpen(false)} title={`Undo merge #${merge.mergeId ?? ''}`} size="lg">
        {unmerge.data ? (
          <Stack>
            <Text role="status">The merge was undone. The records now live in:</Text>
            <List>
              {unmerge.data.profiles.map((id) => (
                <List.Item key={id}>
                  <Anchor component={Link} href={`/profiles/${id}`} onClick={() => setOpen(false)} ff="monospace">
                    {id}
                  </Anchor>
                </List.Item>
              ))}
            </List>
            <Text size="sm">
              Kept apart from now on: {unmerge.data.separated[0].map((h) => `${h.type}:${h.value}`).join(', ')} and{' '}
              {unmerge.data.separated[1].map((h) => `${h.type}:${h.value}`).join(', ')} (a record holding both no longer
              merges them)
            </Text>
          </Stack>
        ) : (
          <Stack>
            <Text>
              On {when(merge.at)}, profile <Code>{merge.loser}</Code> was merged into <Code>{merge.winner}</Code>{' '}
              because they shared:
            </Text>
            <List>
              {(merge.causedBy ?? []).map((c) => (
                <List.Item key={`${c.type}:${c.value}`}>
                  <Code>
                    {c.type}:{c.value}
                  </Code>
                </List.Item>
              ))}
            </List>
            <Text size="sm">
              Undoing it re-resolves the records involved into separate profiles, and keeps the identifiers that joined
              them from merging them again. Merges made after it stay in place.
            </Text>
            <ErrorAlert error={unmerge.error} title="Unmerge failed" />
            <Button color="red" onClick={() => unmerge.mutate()} loading={unmerge.isPending}>
              Undo this merge
            </Button>
          </Stack>
        )}
      </Modal>
    </>
  );
}
