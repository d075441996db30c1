import type { ShopifyGraphql } from './graphql.js';
import { compact, LINE_ITEM_NODE_COST, LINE_ITEMS_PAGE, ORDER_LINE_ITEMS } from './queries.js';
import type { ShopifyLineItemNode, ShopifyOrderNode } from './shopify.types.js';

interface LineItemsPage {
  order: {
    lineItems: { pageInfo: { hasNextPage: boolean; endCursor?: string | null }; nodes: ShopifyLineItemNode[] };
  } | null;
}

const QUERY = compact(ORDER_LINE_ITEMS);

/**
 * A page of orders carries each order's first line items; an order with more has the rest read on its own,
 * so a record always holds every item. The page info is dropped once the list is complete.
 */
export async function completeLineItems(client: ShopifyGraphql, orders: ShopifyOrderNode[]): Promise<void> {
  for (const order of orders) {
    const items = order?.lineItems;
    if (!items) continue;
    let pageInfo = items.pageInfo;
    while (pageInfo?.hasNextPage && pageInfo.endCursor) {
      const data = await client.request<LineItemsPage>(
        QUERY,
        { id: order.id, first: LINE_ITEMS_PAGE, after: pageInfo.endCursor },
        1 + 2 + LINE_ITEMS_PAGE * LINE_ITEM_NODE_COST,
      );
      if (!data.order) break; // deleted since the page was read: its next change (a deletion) is not ours to read
      items.nodes.push(...data.order.lineItems.nodes);
      pageInfo = data.order.lineItems.pageInfo;
    }
    delete items.pageInfo;
  }
}
