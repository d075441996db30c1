import { Alert, List } from '@mantine/core';
import { ApiError } from '../api/client.js';

/** Shows the API's own message (and each offending field) for a failed call. */
export function ErrorAlert({ error, title = 'The request failed' }: { error: unknown; title?: string }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : JSON.stringify(error);
  const details = error instanceof ApiError ? error.details : undefined;
  return (
    <Alert color="red" title={title} role="alert">
      {message}
      {details && details.length > 0 && (
        <List size="sm" mt="xs">
          {details.map((d) => (
            <List.Item key={d.field}>
              {d.field}: {d.problems.join(', ')}
            </List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}
