import { Anchor, Stack, Text, Title } from '@mantine/core';
import { Link } from 'wouter';

export function NotFound() {
  return (
    <Stack>
      <Title order={1}>Not found</Title>
      <Text>
        No page here.{' '}
        <Anchor component={Link} href="/">
          Back to the overview
        </Anchor>
      </Text>
    </Stack>
  );
}
