SELECT id FROM characters WHERE name = '';
